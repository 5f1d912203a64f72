"""Sharded photo files: every row's photo (or None) comes back, and a file that does not fit the layout is refused."""

import pyarrow as pa
import pytest

from search.catalog.photos import ROWS_PER_BATCH, PhotoShards, PhotoWriter, shard_name, write_photo_shards
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


def test_a_stream_of_uneven_parts_gives_the_same_files_as_the_whole_column(tmp_path):
    count, per_file = 3 * ROWS_PER_BATCH + 5, 2 * ROWS_PER_BATCH
    stored = photos(count)
    writer = PhotoWriter(tmp_path / "stream", per_file)
    for start in range(0, count, 700):
        writer.add(stored.slice(start, 700))
    assert writer.close() == write_photo_shards(stored, tmp_path / "whole", per_file) == 2
    for number in range(2):
        assert (tmp_path / "stream" / shard_name(number)).read_bytes() == (
            tmp_path / "whole" / shard_name(number)
        ).read_bytes()
    shards = PhotoShards(tmp_path / "stream", count, per_file, 2)
    assert [photo for _, batch in shards.batches() for photo in batch.to_pylist()] == stored.to_pylist()


def test_blanked_rows_are_emptied_and_only_their_files_rewritten(tmp_path):
    stored = photos(200)
    files = write_photo_shards(stored, tmp_path, 64)
    untouched = (tmp_path / shard_name(0)).read_bytes()
    shards = PhotoShards(tmp_path, 200, 64, files).blank([70, 199])
    expected = stored.to_pylist()
    expected[70] = expected[199] = None
    assert [shards[row] for row in range(200)] == expected
    assert (tmp_path / shard_name(0)).read_bytes() == untouched
    assert sorted(path.name for path in tmp_path.iterdir()) == [shard_name(number) for number in range(files)]


def test_photo_files_describe_and_save_themselves_into_a_bundle(tmp_path):
    files = write_photo_shards(photos(100), tmp_path / "staged", 64)
    shards = PhotoShards(tmp_path / "staged", 100, 64, files)
    shards.save(tmp_path / "bundle")
    loaded = PhotoShards.load(tmp_path / "bundle", shards.describe(), 100)
    assert shards.describe() == {"folder": "photos", "files": 2, "rows_per_file": 64}
    assert [loaded[row] for row in range(100)] == photos(100).to_pylist()
