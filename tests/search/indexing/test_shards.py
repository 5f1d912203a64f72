"""Build stage 3: embedding shards make a build resumable; other settings never reuse them."""

import numpy as np

from search.encoding.vectors import mix
from search.indexing.shards import ShardCache

SETTINGS = {"model": "tiny", "rows": 10}


def vectors(rows: range, dim: int = 4) -> np.ndarray:
    return np.arange(len(rows) * dim, dtype=np.float32).reshape(len(rows), dim) + rows.start * dim


def test_missing_rows_shrink_as_shards_are_written_and_read_back_in_row_order(tmp_path):
    cache = ShardCache(tmp_path, SETTINGS, num_rows=10, shard_size=4)
    assert cache.num_shards == 3 and [cache.rows(s) for s in range(3)] == [range(0, 4), range(4, 8), range(8, 10)]
    assert cache.missing_rows() == list(range(10))
    cache.write(1, vectors(cache.rows(1)), -vectors(cache.rows(1)), {5: "the image is empty (0 bytes)"})
    assert cache.missing_rows() == [0, 1, 2, 3, 8, 9]
    for shard in (0, 2):
        cache.write(shard, vectors(cache.rows(shard)), -vectors(cache.rows(shard)), {})
    image, text = (np.concatenate(parts) for parts in zip(*(cache.read(s) for s in range(3)), strict=True))
    np.testing.assert_array_equal(image, vectors(range(10)))
    np.testing.assert_array_equal(text, -vectors(range(10)))
    assert cache.unreadable(1) == {5: "the image is empty (0 bytes)"}
    assert not list(cache.folder.glob("*.tmp*"))


def test_the_same_settings_resume_and_other_settings_start_afresh(tmp_path):
    first = ShardCache(tmp_path, SETTINGS, num_rows=10, shard_size=4)
    first.write(0, vectors(first.rows(0)), vectors(first.rows(0)), {})
    assert ShardCache(tmp_path, dict(SETTINGS), 10, 4).missing_rows() == list(range(4, 10))
    other = ShardCache(tmp_path, {**SETTINGS, "model": "other"}, 10, 4)
    assert other.folder != first.folder and other.missing_rows() == list(range(10))


def test_document_vectors_are_written_shard_by_shard_and_memory_mapped(tmp_path):
    cache = ShardCache(tmp_path, SETTINGS, num_rows=10, shard_size=4)
    rng = np.random.default_rng(0)
    image, text = rng.standard_normal((10, 4)).astype(np.float32), rng.standard_normal((10, 4)).astype(np.float32)
    for shard in range(cache.num_shards):
        rows = cache.rows(shard)
        cache.write(shard, image[rows.start : rows.stop], text[rows.start : rows.stop], {})
    documents = cache.document_vectors(tmp_path / "documents.npy", 4, 0.75, without_vectors=[3, 4, 9])
    assert isinstance(documents, np.memmap) and documents.shape == (10, 4) and documents.dtype == np.float32
    expected = mix(image, text, 0.75)
    expected[[3, 4, 9]] = 0.0
    np.testing.assert_allclose(documents, expected, rtol=1e-6)
