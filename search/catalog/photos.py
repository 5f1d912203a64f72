"""Product photos of large catalogs, kept out of the products table: sharded Arrow IPC files in the bundle.

A 44k catalog's photos (~100 MB) sit in the products table's `image_bytes` column and in memory. A million photos
(~2-3 GB) would make that one parquet file huge and the app's resident memory with it, so above
`INLINE_MAX_MB` the build writes them as uncompressed Arrow IPC files (JPEG bytes do not compress) of
`ROWS_PER_FILE` rows in batches of `ROWS_PER_BATCH`. The app memory-maps them: a photo is a slice of a mapped
file, read from disk (or the page cache) when a result shows it, and the app's own memory does not grow with them.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa

from search.errors import BundleError

PHOTOS_FOLDER = "photos"
INLINE_MAX_MB = 512
ROWS_PER_FILE = 65_536
ROWS_PER_BATCH = 1_024
PHOTO_COLUMN = "image_bytes"


def shard_name(number: int) -> str:
    return f"photos-{number:05d}.arrow"


def write_photo_shards(photos: pa.ChunkedArray | pa.Array, folder: Path, rows_per_file: int = ROWS_PER_FILE) -> int:
    """Write photos (binary, null where a product has none) in row order; returns the number of files."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(PHOTO_COLUMN, pa.binary())])
    files = 0
    for files, start in enumerate(range(0, len(photos), rows_per_file), start=1):
        part = pa.table({PHOTO_COLUMN: photos.slice(start, rows_per_file)}, schema=schema)
        with pa.OSFile(str(folder / shard_name(files - 1)), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            writer.write_table(part, max_chunksize=ROWS_PER_BATCH)
    return files


class PhotoShards:
    """Read access to photos written by `write_photo_shards`, by row number, from memory-mapped files."""

    def __init__(self, folder: Path, num_rows: int, rows_per_file: int, files: int) -> None:
        self.rows_per_file = rows_per_file
        self.num_rows = num_rows
        self._lock = threading.Lock()
        self._readers = []
        for number in range(files):
            path = folder / shard_name(number)
            try:
                reader = pa.ipc.open_file(pa.memory_map(str(path)))
            except (OSError, pa.ArrowInvalid) as error:
                raise BundleError(f"The photo file {path.name} cannot be read: {error}") from error
            self._readers.append(reader)
        self._check_layout()

    def _check_layout(self) -> None:
        """Every file but the last holds exactly `rows_per_file` rows in full batches, so a row's place is
        arithmetic; anything else (a file from another bundle, a re-written one) is refused on load."""
        expected_files = -(-self.num_rows // self.rows_per_file)
        if len(self._readers) != expected_files:
            raise BundleError(
                f"The bundle has {len(self._readers)} photo files; {self.num_rows} rows need {expected_files}."
            )
        for number, reader in enumerate(self._readers):
            rows = min(self.rows_per_file, self.num_rows - number * self.rows_per_file)
            if reader.schema.names != [PHOTO_COLUMN] or reader.schema.field(0).type != pa.binary():
                raise BundleError(
                    f"The photo file {shard_name(number)} does not hold one binary '{PHOTO_COLUMN}' column."
                )
            sizes = [reader.get_batch(index).num_rows for index in range(reader.num_record_batches)]
            full = [min(ROWS_PER_BATCH, rows - start) for start in range(0, rows, ROWS_PER_BATCH)]
            if sizes != full:
                raise BundleError(
                    f"The photo file {shard_name(number)} holds {sum(sizes)} rows in batches {sizes[:3]}…; "
                    f"expected {rows} rows in batches of {ROWS_PER_BATCH}."
                )

    def __len__(self) -> int:
        return self.num_rows

    def __getitem__(self, row: int) -> bytes | None:
        file, offset = divmod(row, self.rows_per_file)
        batch, within = divmod(offset, ROWS_PER_BATCH)
        with self._lock:
            value = self._readers[file].get_batch(batch).column(0)[within]
        return value.as_py() if value.is_valid else None
