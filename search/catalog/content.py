"""Content keys: for every product, digests of exactly what its vector is made from (its photo's bytes, the text the
text tower reads) and of its other labels, so that a later build can tell which products changed and how.

Stored in the bundle (a bundle part: it describes, saves and loads itself) next to the vectors they key. Together
with the manifest's model (id, revision, runtime, precision, probe) and document recipe they decide whether a
stored vector can be reused (search.indexing.changes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from search.catalog.schema import ID_COLUMN, LABEL_COLUMNS, LABEL_TEXT_COLUMNS, NAME_COLUMN, YEAR_COLUMN, clean_label
from search.errors import BundleError

CONTENT_FILE = "content.parquet"
HashName = Literal["blake2b-128"]
HASH: HashName = "blake2b-128"
KEY_BYTES = 16
# How photos and texts become vectors beyond the model itself (decoding, preprocessing, the product text): bump
# it when that changes, so that no bundle built the old way is reused.
RECIPE = 1
# The fields the encoded product text is read from: the name, else these labels (search.catalog.schema.product_text).
TEXT_FIELDS = (NAME_COLUMN, *LABEL_TEXT_COLUMNS)
KEY_COLUMNS = ("photo", "text", "labels")
NO_PHOTO = b"\0no photo"


def digest(data: bytes) -> bytes:
    """The 16-byte BLAKE2b digest of some bytes."""
    return hashlib.blake2b(data, digest_size=KEY_BYTES).digest()


def labels_digest(record: Mapping[str, Any]) -> bytes:
    """The digest of a product's labels, year and name (what the products table stores besides the photo)."""
    values = [clean_label(record.get(name)) for name in (*LABEL_COLUMNS, NAME_COLUMN)]
    values.append(clean_label(record.get(YEAR_COLUMN)))
    return digest("\x1f".join(values).encode())


def as_keys(digests: Sequence[bytes]) -> np.ndarray:
    """Digests as an (n, 2) uint64 array: compared row by row with `same`."""
    return np.frombuffer(b"".join(digests), dtype=np.uint64).reshape(-1, 2).copy()


def same(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise equality of two key arrays."""
    return (left == right).all(axis=1)


@dataclass(frozen=True)
class ContentKeys:
    """Per-product keys in catalog order: product ids and the (n, 2) uint64 digests of each product's photo bytes
    (NO_PHOTO when it has none), product text and labels; `text_fields` names what the encoded text is read from
    (empty when product vectors use no text)."""

    ids: np.ndarray
    photo: np.ndarray
    text: np.ndarray
    labels: np.ndarray
    text_fields: tuple[str, ...] = TEXT_FIELDS

    def __post_init__(self) -> None:
        rows = {len(self.ids), len(self.photo), len(self.text), len(self.labels)}
        if len(rows) != 1:
            raise BundleError("The content keys' columns differ in length.")

    def __len__(self) -> int:
        return len(self.ids)

    def vector_keys(self) -> np.ndarray:
        """What a product's vector depends on besides the model and recipe: its photo, and its text when encoded."""
        return np.hstack([self.photo, self.text]) if self.text_fields else self.photo

    def describe(self) -> dict[str, Any]:
        """The manifest's content section: the file, the digest and the recipe the keys were made with."""
        return {"file": CONTENT_FILE, "hash": HASH, "recipe": RECIPE, "text_fields": list(self.text_fields)}

    def save(self, folder: Path) -> None:
        """Write the keys into the bundle folder `folder`."""
        columns = {ID_COLUMN: pa.array(self.ids, pa.int64())}
        for name in KEY_COLUMNS:
            keys = np.ascontiguousarray(getattr(self, name), dtype=np.uint64)
            buffer = pa.py_buffer(keys.tobytes())
            columns[name] = pa.FixedSizeBinaryArray.from_buffers(pa.binary(KEY_BYTES), len(keys), [None, buffer])
        pq.write_table(pa.table(columns), Path(folder) / CONTENT_FILE, compression="zstd")

    @classmethod
    def load(cls, folder: Path, section: Mapping[str, Any]) -> ContentKeys:
        """The keys a bundle folder holds, as its manifest section (`describe`) says."""
        path = Path(folder) / section["file"]
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as error:
            raise BundleError(f"The content keys {path.name} cannot be read: {error}") from error
        expected = {ID_COLUMN: pa.int64(), **{name: pa.binary(KEY_BYTES) for name in KEY_COLUMNS}}
        if {name: table.schema.field(name).type for name in table.column_names if name in expected} != expected:
            raise BundleError(f"The content keys {path.name} lack the columns {', '.join(expected)} or their types.")
        if any(table.column(name).null_count for name in expected):
            raise BundleError(f"The content keys {path.name} have empty values.")
        keys = {name: _keys(table.column(name)) for name in KEY_COLUMNS}
        return cls(table.column(ID_COLUMN).to_numpy(), **keys, text_fields=tuple(section["text_fields"]))


def _keys(column: pa.ChunkedArray) -> np.ndarray:
    array = column.combine_chunks()
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    start = array.offset * KEY_BYTES
    return data[start : start + len(array) * KEY_BYTES].view(np.uint64).reshape(-1, 2).copy()
