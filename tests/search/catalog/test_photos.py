"""Sharded photo files: every row's photo (or None) comes back, and a file that does not fit the layout is refused."""

import pyarrow as pa
import pytest

from search.catalog.photos import ROWS_PER_BATCH, PhotoShards, shard_name, write_photo_shards
from search.errors import BundleError


def photos(count: int) -> pa.Array:
    return pa.array([None if row % 7 == 3 else f"jpeg-{row}".encode() for row in range(count)], pa.binary())


def test_every_row_reads_back_from_the_sharded_files(tmp_path):
    count, per_file = 3 * ROWS_PER_BATCH + 5, 2 * ROWS_PER_BATCH
    stored = photos(count)
    files = write_photo_shards(stored, tmp_path, per_file)
    assert files == 2
    shards = PhotoShards(tmp_path, count, per_file, files)
    assert [shards[row] for row in range(count)] == stored.to_pylist()


def test_files_of_another_layout_are_refused(tmp_path):
    write_photo_shards(photos(100), tmp_path, 64)
    with pytest.raises(BundleError, match="photo files"):
        PhotoShards(tmp_path, 200, 64, 2)
    with pytest.raises(BundleError, match="holds 64 rows.*expected 80 rows"):
        PhotoShards(tmp_path, 100, 80, 2)
    (tmp_path / shard_name(1)).write_bytes(b"not arrow")
    with pytest.raises(BundleError, match="cannot be read"):
        PhotoShards(tmp_path, 100, 64, 2)
