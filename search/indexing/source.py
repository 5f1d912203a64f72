"""Build stage 1: the one pass over the catalog. Each product's photo is read once (its stored bytes, or the file
its path names), hashed with its text and labels into its content keys (search.catalog.content), and streamed in
row order to photo files, from which the encoder reads the photos to encode and the bundle takes them all; the
photo column is never held in memory whole."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from search.catalog.content import NO_PHOTO, TEXT_FIELDS, ContentKeys, as_keys, digest, labels_digest
from search.catalog.photos import ROWS_PER_BATCH, ROWS_PER_FILE, PhotoShards, PhotoWriter
from search.catalog.schema import (
    ID_COLUMN,
    IMAGE_COLUMN,
    LABEL_COLUMNS,
    METADATA_COLUMNS,
    NAME_COLUMN,
    YEAR_COLUMN,
    CatalogSource,
    product_text,
)
from search.indexing.reader import Unreadable, stored_image

logger = logging.getLogger(__name__)

TEXT_COLUMNS = [NAME_COLUMN, *(name for name in TEXT_FIELDS if name != NAME_COLUMN)]


@dataclass
class ScannedCatalog:
    """The catalog as the build uses it: the loaded table (metadata and texts are read from it), every product's
    content keys, its photos in photo files and the rows whose photo could not be read (with why)."""

    table: datasets.Dataset
    source: CatalogSource
    keys: ContentKeys
    photos: PhotoShards
    problems: Unreadable
    photo_bytes: int

    def __len__(self) -> int:
        return len(self.keys)

    def photo(self, row: int) -> tuple[bytes | None, str | None]:
        """A row's photo bytes, or None and why there is none."""
        data = self.photos[row]
        return data, (None if data is not None else self.problems.get(row, "no image"))

    def texts(self, rows: list[int]) -> list[str]:
        """The product texts of some rows (what the text tower reads)."""
        columns = self.table.select_columns(TEXT_COLUMNS)[rows]
        return [product_text(dict(zip(columns, values, strict=True))) for values in zip(*columns.values(), strict=True)]

    def metadata(self) -> pa.Table:
        """The metadata columns of every row (no photos), as Arrow columns."""
        return self.table.select_columns(list(METADATA_COLUMNS)).with_format("arrow")[:]


def scan_catalog(
    table: datasets.Dataset,
    source: CatalogSource,
    folder: Path,
    encodes_text: bool,
    rows_per_file: int = ROWS_PER_FILE,
) -> ScannedCatalog:
    """Read every row once, a batch at a time: content keys, photos to photo files in `folder` (emptied first),
    the rows whose photo could not be read. `encodes_text` records whether product vectors use the text."""
    shutil.rmtree(folder, ignore_errors=True)
    writer = PhotoWriter(folder, rows_per_file)
    ids, photo_keys, text_keys, label_keys = [], [], [], []
    problems: Unreadable = {}
    columns = [ID_COLUMN, *LABEL_COLUMNS, YEAR_COLUMN, NAME_COLUMN]
    start = 0
    progress = tqdm(total=len(table), desc="Reading the catalog", unit="product")
    for batch in table.with_format("arrow").iter(batch_size=ROWS_PER_BATCH):
        photos, batch_problems = _photos(batch.column(IMAGE_COLUMN), source.root)
        problems.update({start + row: problem for row, problem in batch_problems.items()})
        writer.add(photos)
        photo_keys.append(as_keys([digest(data) if data else digest(NO_PHOTO) for data in photos.to_pylist()]))
        records = batch.select(columns).to_pylist()
        text_keys.append(as_keys([digest(product_text(record).encode()) for record in records]))
        label_keys.append(as_keys([labels_digest(record) for record in records]))
        ids.append(pc.cast(batch.column(ID_COLUMN), pa.int64()).to_numpy())
        start += batch.num_rows
        progress.update(batch.num_rows)
    progress.close()
    files = writer.close()
    keys = ContentKeys(
        np.concatenate(ids),
        np.concatenate(photo_keys),
        np.concatenate(text_keys),
        np.concatenate(label_keys),
        text_fields=TEXT_FIELDS if encodes_text else (),
    )
    photos = PhotoShards(folder, len(table), rows_per_file, files)
    logger.info("Read %d products: %.0f MB of photos", len(table), writer.bytes / 2**20)
    return ScannedCatalog(table, source, keys, photos, problems, writer.bytes)


def _photos(images: pa.ChunkedArray, root: Path | None) -> tuple[pa.Array, Unreadable]:
    """A batch's photo bytes (null where there is none) and why each missing one is missing. Column-wise: only
    the rows without stored bytes (given by path, or without a photo) become Python objects."""
    images = images.combine_chunks()
    data = pc.struct_field(images, "bytes").cast(pa.binary())
    stored = pc.fill_null(pc.greater(pc.binary_length(data), 0), False)
    if pc.all(stored).as_py():
        return data, {}
    values = data.to_pylist()
    missing = np.flatnonzero(~stored.to_numpy(zero_copy_only=False))
    problems: Unreadable = {}
    for row, cell in zip(missing.tolist(), images.take(pa.array(missing)).to_pylist(), strict=True):
        values[row], problem = stored_image(cell, root)
        if problem:
            problems[row] = problem
    return pa.array(values, pa.binary()), problems
