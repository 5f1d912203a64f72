"""Build stage 3: embedding shards make a build resumable; other settings never reuse them."""

import numpy as np

from search.build.shards import ShardCache

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
    image, text, unreadable = cache.read_all()
    np.testing.assert_array_equal(image, vectors(range(10)))
    np.testing.assert_array_equal(text, -vectors(range(10)))
    assert unreadable == {5: "the image is empty (0 bytes)"} == cache.unreadable(1)
    assert not list(cache.folder.glob("*.tmp*"))


def test_the_same_settings_resume_and_other_settings_start_afresh(tmp_path):
    first = ShardCache(tmp_path, SETTINGS, num_rows=10, shard_size=4)
    first.write(0, vectors(first.rows(0)), vectors(first.rows(0)), {})
    assert ShardCache(tmp_path, dict(SETTINGS), 10, 4).missing_rows() == list(range(4, 10))
    other = ShardCache(tmp_path, {**SETTINGS, "model": "other"}, 10, 4)
    assert other.folder != first.folder and other.missing_rows() == list(range(10))
