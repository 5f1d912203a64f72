"""Product photos kept out of the products table: sharded Arrow IPC files, written as a stream.

A 44k catalog's photos (~100 MB) end up in the products table's `image_bytes` column and in memory. A million
photos (~2-3 GB) would make that one parquet file huge and the app's resident memory with it, so above
`INLINE_MAX_MB` the bundle keeps them as uncompressed Arrow IPC files (JPEG bytes do not compress) of
`ROWS_PER_FILE` rows in batches of `ROWS_PER_BATCH`. The app memory-maps them: a photo is a slice of a mapped
file, read from disk (or the page cache) when a result shows it, and the app's own memory does not grow with them.

The build writes every catalog's photos in this layout first (`PhotoWriter`, one batch in memory at a time), reads
them back by row to encode them, and then either moves the files into the bundle or streams them into the
products table's column (search.catalog.products).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from search.errors import BundleError

PHOTOS_FOLDER = "photos"
INLINE_MAX_MB = 512
ROWS_PER_FILE = 65_536
ROWS_PER_BATCH = 1_024
PHOTO_COLUMN = "image_bytes"
SCHEMA = pa.schema([(PHOTO_COLUMN, pa.binary())])


def shard_name(number: int) -> str:
    return f"photos-{number:05d}.arrow"


class PhotoWriter:
    """Appends photos (binary, null where a product has none) in row order to photo files in `folder`, holding
    at most one batch: every file but the last gets `rows_per_file` rows in batches of ROWS_PER_BATCH rows, the
    layout `PhotoShards` checks."""

    def __init__(self, folder: Path, rows_per_file: int = ROWS_PER_FILE) -> None:
        self.folder = Path(folder)
        self.rows_per_file = rows_per_file
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.bytes = 0
        self.files = 0
        self._pending: list[pa.Array] = []
        self._pending_rows = 0
        self._file: tuple[pa.OSFile, pa.ipc.RecordBatchFileWriter] | None = None  # the open file and its writer
        self._in_file = 0

    def add(self, photos: pa.Array | pa.ChunkedArray) -> None:
        """Queue photos; full batches are written at once."""
        chunks = photos.chunks if isinstance(photos, pa.ChunkedArray) else [photos]
        for chunk in chunks:
            if len(chunk):
                self._pending.append(chunk.cast(pa.binary()))
                self._pending_rows += len(chunk)
                self.bytes += chunk.nbytes
        while self._pending_rows >= self._next_batch_rows():
            self._write_batch(self._next_batch_rows())

    def close(self) -> int:
        """Write what is left; returns the number of files."""
        while self._pending_rows:
            self._write_batch(min(self._pending_rows, self._next_batch_rows()))
        self._close_file()
        return self.files

    def _next_batch_rows(self) -> int:
        return min(ROWS_PER_BATCH, self.rows_per_file - self._in_file)

    def _write_batch(self, count: int) -> None:
        joined = pa.chunked_array(self._pending, pa.binary()).combine_chunks()
        self._pending = [joined.slice(count)] if count < len(joined) else []
        self._pending_rows -= count
        if self._file is None:
            sink = pa.OSFile(str(self.folder / shard_name(self.files)), "wb")
            self._file = (sink, pa.ipc.new_file(sink, SCHEMA))
            self.files += 1
        self._file[1].write_batch(pa.record_batch([joined.slice(0, count)], schema=SCHEMA))
        self._in_file += count
        self.rows += count
        if self._in_file == self.rows_per_file:
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            sink, writer = self._file
            writer.close()
            sink.close()
        self._file, self._in_file = None, 0


def write_photo_shards(photos: pa.ChunkedArray | pa.Array, folder: Path, rows_per_file: int = ROWS_PER_FILE) -> int:
    """Write photos (binary, null where a product has none) in row order; returns the number of files."""
    writer = PhotoWriter(folder, rows_per_file)
    writer.add(photos)
    return writer.close()


class PhotoShards:
    """Read access to photos written by `PhotoWriter`, by row number, from memory-mapped files: the bundle's
    photos part (it describes, saves and loads itself)."""

    def __init__(self, folder: Path, num_rows: int, rows_per_file: int, files: int) -> None:
        self.folder = Path(folder)
        self.rows_per_file = rows_per_file
        self.num_rows = num_rows
        self._lock = threading.Lock()
        self._readers = []
        for number in range(files):
            path = self.folder / shard_name(number)
            try:
                reader = pa.ipc.open_file(pa.memory_map(str(path)))
            except (OSError, pa.ArrowInvalid) as error:
                raise BundleError(f"The photo file {path.name} cannot be read: {error}") from error
            self._readers.append(reader)
        self._check_layout()

    @classmethod
    def load(cls, folder: Path, section: Mapping[str, Any], num_rows: int) -> PhotoShards:
        """The photos a bundle's manifest section (`describe`) names in the bundle folder `folder`."""
        return cls(Path(folder) / section["folder"], num_rows, section["rows_per_file"], section["files"])

    def describe(self) -> dict[str, Any]:
        """The manifest's photos section: where the files are and their layout."""
        return {"folder": PHOTOS_FOLDER, "files": len(self._readers), "rows_per_file": self.rows_per_file}

    def save(self, folder: Path) -> None:
        """Put the files into the bundle folder `folder` (hard links where the file system allows: no copy)."""
        target = Path(folder) / PHOTOS_FOLDER
        target.mkdir(parents=True, exist_ok=True)
        for number in range(len(self._readers)):
            source, destination = self.folder / shard_name(number), target / shard_name(number)
            try:
                os.link(source, destination)
            except OSError:
                shutil.copyfile(source, destination)

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

    def batches(self) -> Iterator[tuple[int, pa.Array]]:
        """(first row, photos) per stored batch, in row order: a stream of the whole column, one batch at a time."""
        start = 0
        for reader in self._readers:
            for index in range(reader.num_record_batches):
                with self._lock:
                    photos = reader.get_batch(index).column(0)
                yield start, photos
                start += len(photos)

    def blank(self, rows: Collection[int]) -> PhotoShards:
        """These photos with the given rows emptied (a photo that is not an image is never stored or served):
        only the files holding such a row are rewritten. Returns the shards re-opened; this object is closed."""
        files = sorted({row // self.rows_per_file for row in rows})
        count = len(self._readers)
        self._readers = []
        for number in files:
            path = self.folder / shard_name(number)
            start = number * self.rows_per_file
            table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
            keep = np.ones(table.num_rows, dtype=bool)
            keep[[row - start for row in rows if start <= row < start + table.num_rows]] = False
            photos = pc.if_else(pa.array(keep), table.column(0), pa.scalar(None, pa.binary()))
            temporary = path.with_suffix(".tmp")
            write_photo_shards(photos, temporary, self.rows_per_file)
            os.replace(temporary / shard_name(0), path)
            temporary.rmdir()
            del table, photos
        return PhotoShards(self.folder, self.num_rows, self.rows_per_file, count)
