"""The products table of a bundle: metadata and image bytes per row, row i = vector i of the index."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from search.catalog.photos import PhotoShards
from search.catalog.schema import (
    ID_COLUMN,
    IMAGE_COLUMN,
    LABEL_COLUMNS,
    NAME_COLUMN,
    YEAR_COLUMN,
    clean_label,
    clean_year,
)
from search.errors import BundleError, InvalidQueryError

IMAGE_BYTES_COLUMN = "image_bytes"
PRODUCTS_FILE = "products.parquet"
# Rows per batch when the products table is checked or written as a stream (a batch of photos, not the column).
STREAM_ROWS = 16_384


PRODUCTS_SCHEMA = pa.schema(
    [(ID_COLUMN, pa.int64())]
    + [(name, pa.string()) for name in (*LABEL_COLUMNS, NAME_COLUMN)]
    + [(YEAR_COLUMN, pa.int32()), (IMAGE_BYTES_COLUMN, pa.binary())]
)


def products_frame(rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of cleaned metadata plus image bytes, from catalog rows with undecoded images."""
    columns: dict[str, list[Any]] = {name: [] for name in PRODUCTS_SCHEMA.names}
    for row in rows:
        columns[ID_COLUMN].append(int(row[ID_COLUMN]))
        for name in (*LABEL_COLUMNS, NAME_COLUMN):
            columns[name].append(clean_label(row.get(name)))
        columns[YEAR_COLUMN].append(clean_year(row.get(YEAR_COLUMN)))
        image = row.get(IMAGE_COLUMN) or {}
        columns[IMAGE_BYTES_COLUMN].append(image.get("bytes") if isinstance(image, dict) else None)
    return pa.table(columns, schema=PRODUCTS_SCHEMA)


def products_from_catalog(catalog: pa.Table) -> pa.Table:
    """The products table of a catalog's Arrow table, column by column: what `products_frame` gives for its rows,
    without a Python object per row (a million rows take seconds, not minutes and gigabytes). Without an image
    column the photos are left empty (a build keeps them in photo files)."""
    columns = [pc.cast(catalog[ID_COLUMN], pa.int64())]
    for name in (*LABEL_COLUMNS, NAME_COLUMN):
        column = catalog[name]
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = pa.chunked_array([[clean_label(value) for value in column.to_pylist()]], pa.string())
        columns.append(pc.fill_null(pc.utf8_trim_whitespace(column), ""))
    year = catalog[YEAR_COLUMN]
    if pa.types.is_floating(year.type):
        year = pc.cast(pc.trunc(pc.if_else(pc.is_nan(year), pa.scalar(None, year.type), year)), pa.int32())
    else:
        year = pa.chunked_array([[clean_year(value) for value in year.to_pylist()]], pa.int32())
    columns.append(year)
    image = catalog[IMAGE_COLUMN] if IMAGE_COLUMN in catalog.column_names else None
    if image is not None and pa.types.is_struct(image.type):
        columns.append(pc.struct_field(image, "bytes"))
    else:
        columns.append(pa.nulls(len(catalog), pa.binary()))
    return pa.table(columns, schema=PRODUCTS_SCHEMA)


def conform(table: pa.Table) -> pa.Table:
    """The table's schema columns only, in schema order and types; a missing, mistyped or null-id column is a
    BundleError naming it. Other columns are dropped, so nothing outside the schema is ever served."""
    missing = [name for name in PRODUCTS_SCHEMA.names if name not in table.column_names]
    if missing:
        raise BundleError(f"The products table lacks column(s): {', '.join(missing)}.")
    columns = []
    for field in PRODUCTS_SCHEMA:
        column = table.column(field.name)
        try:
            columns.append(column.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
            raise BundleError(
                f"The products table's column {field.name} holds {column.type}, not {field.type}: {error}"
            ) from error
    if columns[0].null_count:
        raise BundleError(f"The products table has {columns[0].null_count} row(s) without a product id.")
    return pa.table(columns, schema=PRODUCTS_SCHEMA)


class ProductTable:
    """Product metadata as Arrow columns: no Python object per product, so a million products take about their
    column bytes in memory (docs/SCALE.md), and a page of results is read in one `take`. Photos are one Arrow
    column, or photo files (search.catalog.photos) that `image_bytes` reads on demand.

    A bundle part: it saves itself into a bundle folder (`save`), says what the manifest records about its photos
    (`describe_photos`) and loads back from both (`load`). A build gives its photo files with `inline_photos`:
    True streams them into the table's own column when saved, False keeps them as files in the bundle.
    """

    def __init__(self, table: pa.Table, photos: PhotoShards | None = None, inline_photos: bool = False) -> None:
        self._table = conform(table)
        self._photos = photos
        self.inline_photos = inline_photos and photos is not None
        if photos is not None and len(photos) != len(self._table):
            raise BundleError(f"The photo files hold {len(photos)} photos for {len(self._table)} products.")
        self._images = self._table.column(IMAGE_BYTES_COLUMN).combine_chunks()
        self._metadata = self._table.drop_columns([IMAGE_BYTES_COLUMN]).combine_chunks()
        self.ids = self._metadata.column(ID_COLUMN).to_numpy()
        self._row_of_id = pd.Index(self.ids)
        if not self._row_of_id.is_unique:
            duplicated = sorted(set(self.ids[self._row_of_id.duplicated()].tolist()))[:10]
            raise BundleError(f"The products table has duplicate product ids: {', '.join(map(str, duplicated))}.")

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> ProductTable:
        """The table of catalog rows (metadata cleaned, images kept as their encoded bytes)."""
        return cls(products_frame(rows))

    @classmethod
    def from_catalog(
        cls, catalog: pa.Table, photos: PhotoShards | None = None, inline_photos: bool = False
    ) -> ProductTable:
        """The table of a catalog's Arrow table (see products_from_catalog); with `photos`, those photo files
        instead of the catalog's image column."""
        if photos is not None and IMAGE_COLUMN in catalog.column_names:
            catalog = catalog.drop_columns([IMAGE_COLUMN])
        return cls(products_from_catalog(catalog), photos, inline_photos)

    @classmethod
    def read(cls, path: Path, photos: PhotoShards | None = None) -> ProductTable:
        try:
            schema = pq.read_schema(path)
            wanted = [name for name in PRODUCTS_SCHEMA.names if name in schema.names]
            return cls(pq.read_table(path, columns=wanted), photos)
        except (pa.ArrowInvalid, OSError) as error:
            raise BundleError(f"The products table {path.name} cannot be read: {error}") from error

    @classmethod
    def load(cls, folder: Path, photos: Mapping[str, Any] | None, num_rows: int) -> ProductTable:
        """The table a bundle folder holds, with its photo files when the manifest's photos section names them."""
        shards = PhotoShards.load(folder, photos, num_rows) if photos is not None else None
        return cls.read(Path(folder) / PRODUCTS_FILE, shards)

    @staticmethod
    def verify(folder: Path, photos: Mapping[str, Any] | None, num_rows: int) -> np.ndarray:
        """Check a saved table as `load` would (columns, types, ids present and unique, photo files' layout),
        reading STREAM_ROWS rows at a time instead of the whole table; returns the product ids."""
        path = Path(folder) / PRODUCTS_FILE
        parts: list[np.ndarray] = []
        try:
            names = pq.read_schema(path).names
            columns = [name for name in PRODUCTS_SCHEMA.names if name in names]
            for batch in pq.ParquetFile(path).iter_batches(batch_size=STREAM_ROWS, columns=columns):
                parts.append(conform(pa.Table.from_batches([batch])).column(ID_COLUMN).to_numpy())
        except (pa.ArrowInvalid, OSError) as error:
            raise BundleError(f"The products table {path.name} cannot be read: {error}") from error
        ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        if len(ids) != num_rows:
            raise BundleError(f"The products table has {len(ids)} rows; the manifest says {num_rows} products.")
        if len(np.unique(ids)) != len(ids):
            raise BundleError("The products table has duplicate product ids.")
        if photos is not None:
            PhotoShards.load(folder, photos, num_rows)
        return ids

    @property
    def table(self) -> pa.Table:
        """The whole table (metadata and image bytes) in the products schema."""
        return self._table

    @property
    def photos(self) -> PhotoShards | None:
        """The photo files the photos are read from (None: the table's own column)."""
        return self._photos

    def describe_photos(self) -> dict[str, Any] | None:
        """The manifest's photos section: None when the photos are saved in the table's own column."""
        return self._photos.describe() if self._photos is not None and not self.inline_photos else None

    def save(self, folder: Path) -> None:
        """Write products.parquet into the bundle folder `folder`, and the photo files when they stay files. Photo
        files saved inline are streamed into the table's column a batch at a time."""
        path = Path(folder) / PRODUCTS_FILE
        if self._photos is None:
            pq.write_table(self._table, path, compression="zstd")
            return
        if not self.inline_photos:
            pq.write_table(self._table, path, compression="zstd")
            self._photos.save(folder)
            return
        image = self._table.schema.get_field_index(IMAGE_BYTES_COLUMN)
        with pq.ParquetWriter(path, PRODUCTS_SCHEMA, compression="zstd") as writer:
            for start, photos in self._photos.batches():
                writer.write_table(self._table.slice(start, len(photos)).set_column(image, IMAGE_BYTES_COLUMN, photos))

    def __len__(self) -> int:
        return self._metadata.num_rows

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        """All metadata as a pandas frame (year as nullable Int32), made on first use: for evaluation and analysis,
        which want whole columns; serving never builds it."""
        return self.columns(self._metadata.column_names)

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        """Some metadata columns as a new pandas frame, in catalog order."""
        frame = self._metadata.select(list(names)).to_pandas()
        if YEAR_COLUMN in frame:
            frame[YEAR_COLUMN] = frame[YEAR_COLUMN].astype("Int32")
        return frame

    def row_of(self, product_id: int) -> int:
        """Row number of a product id; an unknown id is a clear error."""
        try:
            return int(self._row_of_id.get_loc(int(product_id)))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidQueryError(f"No product with id {product_id!r} in this catalog.") from error

    def metadata_rows(self, rows: Sequence[int] | np.ndarray) -> list[dict[str, Any]]:
        """All metadata of each row as plain Python values (missing year is None), read in one batch."""
        return self._metadata.take(np.asarray(rows, dtype=np.int64)).to_pylist()

    def metadata(self, row: int) -> dict[str, Any]:
        """All metadata of a row as plain Python values (missing year is None)."""
        return self.metadata_rows([row])[0]

    def image_bytes(self, row: int) -> bytes | None:
        """The stored encoded image of a row, or None when the catalog had none."""
        if self._photos is not None:
            return self._photos[row]
        value = self._images[row]
        return value.as_py() if value.is_valid else None

    def labels(self, column: str) -> pd.Series:
        """One metadata column as a pandas Series (a new one on each call)."""
        return self.columns([column])[column]
