"""Build stage 3: embedding shards make a build resumable; other settings never reuse them; one assembler places
vectors arriving in any order for both engines."""

import numpy as np
import pytest

from search.indexing.shards import ShardAssembler, ShardCache

SETTINGS = {"model": "tiny", "rows": 10}


def vectors(rows: np.ndarray, dim: int = 4) -> np.ndarray:
    return (np.arange(dim, dtype=np.float32) + rows[:, None] * dim).astype(np.float32)


def test_missing_rows_shrink_as_shards_are_written_and_read_back_in_row_order(tmp_path):
    cache = ShardCache(tmp_path, SETTINGS, range(10), shard_size=4)
    assert cache.num_shards == 3 and [cache.rows(s).tolist() for s in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert cache.missing_rows() == list(range(10))
    cache.write(1, vectors(cache.rows(1)), -vectors(cache.rows(1)), {5: "the image is empty (0 bytes)"})
    assert cache.missing_rows() == [0, 1, 2, 3, 8, 9]
    for shard in (0, 2):
        cache.write(shard, vectors(cache.rows(shard)), -vectors(cache.rows(shard)), {})
    image, text = (np.concatenate(parts) for parts in zip(*(cache.read(s) for s in range(3)), strict=True))
    np.testing.assert_array_equal(image, vectors(np.arange(10)))
    np.testing.assert_array_equal(text, -vectors(np.arange(10)))
    assert cache.unreadable(1) == {5: "the image is empty (0 bytes)"}
    assert not list(cache.folder.glob("*.tmp*"))


def test_a_cache_of_some_rows_runs_over_those_rows_only(tmp_path):
    """An incremental build encodes a few scattered rows: the shards hold exactly those, in order."""
    cache = ShardCache(tmp_path, SETTINGS, [3, 17, 18, 40, 41], shard_size=2)
    assert [cache.rows(s).tolist() for s in range(cache.num_shards)] == [[3, 17], [18, 40], [41]]
    shards, offsets = cache.locate(np.array([41, 3, 18]))
    assert shards.tolist() == [2, 0, 1] and offsets.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match=r"rows this build does not encode: \[4\]"):
        cache.locate(np.array([3, 4]))


def test_the_same_settings_resume_and_other_settings_start_afresh(tmp_path):
    first = ShardCache(tmp_path, SETTINGS, range(10), shard_size=4)
    first.write(0, vectors(first.rows(0)), vectors(first.rows(0)), {})
    assert ShardCache(tmp_path, dict(SETTINGS), range(10), 4).missing_rows() == list(range(4, 10))
    other = ShardCache(tmp_path, {**SETTINGS, "model": "other"}, range(10), 4)
    assert other.folder != first.folder and other.missing_rows() == list(range(10))


def test_the_assembler_writes_a_shard_once_all_its_rows_arrived_in_any_order(tmp_path):
    cache = ShardCache(tmp_path, {"test": 1}, [0, 2, 4, 6, 8], shard_size=2)
    assembler = ShardAssembler(cache)
    rows = np.array([0, 2, 4, 6, 8])
    image = vectors(rows)
    assembler.add(rows[[4, 1]], image[[4, 1]], -image[[4, 1]], {2: "the image is empty (0 bytes)"})
    assert [cache.done(shard) for shard in range(3)] == [False, False, True]
    assembler.add(rows[[3, 0, 2]], image[[3, 0, 2]], -image[[3, 0, 2]], {})
    read = [cache.read(shard) for shard in range(3)]
    np.testing.assert_array_equal(np.concatenate([part[0] for part in read]), image)
    np.testing.assert_array_equal(np.concatenate([part[1] for part in read]), -image)
    assert {**cache.unreadable(0), **cache.unreadable(1), **cache.unreadable(2)} == {2: "the image is empty (0 bytes)"}
    assert not assembler.pending


def test_the_assembler_keeps_no_text_columns_when_names_are_not_encoded(tmp_path):
    cache = ShardCache(tmp_path, {"test": 2}, range(3), shard_size=4)
    ShardAssembler(cache).add(np.arange(3), vectors(np.arange(3)), np.empty((3, 0), np.float32), {})
    assert cache.read(0)[1].shape == (3, 0)
