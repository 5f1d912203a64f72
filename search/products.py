"""The products table of a bundle: metadata and image bytes per row, row i = vector i of the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from search.catalog import (
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
    """Product metadata in memory (pandas) and image bytes kept as one Arrow column (no per-row objects)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = conform(table)
        self._images = self._table.column(IMAGE_BYTES_COLUMN).combine_chunks()
        self.frame = self._table.drop_columns([IMAGE_BYTES_COLUMN]).to_pandas()
        self.frame[YEAR_COLUMN] = self.frame[YEAR_COLUMN].astype("Int32")
        self.ids = self.frame[ID_COLUMN].to_numpy(dtype=np.int64)
        # Plain Python values per column: building a result's metadata from them takes microseconds, where
        # `frame.iloc[row]` takes ~0.2 ms, which 24 results per query turn into most of a cached query's time.
        self._values = {name: self.frame[name].tolist() for name in self.frame.columns}
        self._row_of_id = pd.Index(self.ids)
        if not self._row_of_id.is_unique:
            duplicated = sorted(set(self.ids[self._row_of_id.duplicated()].tolist()))[:10]
            raise BundleError(f"The products table has duplicate product ids: {', '.join(map(str, duplicated))}.")

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> ProductTable:
        """The table of catalog rows (metadata cleaned, images kept as their encoded bytes)."""
        return cls(products_frame(rows))

    @classmethod
    def read(cls, path: Path) -> ProductTable:
        try:
            schema = pq.read_schema(path)
            wanted = [name for name in PRODUCTS_SCHEMA.names if name in schema.names]
            return cls(pq.read_table(path, columns=wanted))
        except (pa.ArrowInvalid, OSError) as error:
            raise BundleError(f"The products table {path.name} cannot be read: {error}") from error

    @property
    def table(self) -> pa.Table:
        """The whole table (metadata and image bytes) in the products schema."""
        return self._table

    def save(self, path: Path) -> None:
        pq.write_table(self._table, path, compression="zstd")

    def __len__(self) -> int:
        return len(self.frame)

    def row_of(self, product_id: int) -> int:
        """Row number of a product id; an unknown id is a clear error."""
        try:
            return int(self._row_of_id.get_loc(int(product_id)))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidQueryError(f"No product with id {product_id!r} in this catalog.") from error

    def metadata(self, row: int) -> dict[str, Any]:
        """All metadata of a row as plain Python values (missing year is None)."""
        record = {name: values[row] for name, values in self._values.items()}
        year = record[YEAR_COLUMN]
        record[YEAR_COLUMN] = None if pd.isna(year) else int(year)
        record[ID_COLUMN] = int(record[ID_COLUMN])
        return record

    def image_bytes(self, row: int) -> bytes | None:
        """The stored encoded image of a row, or None when the catalog had none."""
        value = self._images[row]
        return value.as_py() if value.is_valid else None

    def labels(self, column: str) -> pd.Series:
        return self.frame[column]
