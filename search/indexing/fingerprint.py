"""A fingerprint of a catalog's content: it keys the shard cache, so a build resumes only over the very same
products (the same path and row count are not enough: a catalog changed in place must be encoded afresh)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.compute as pc

from search.catalog.schema import IMAGE_COLUMN
from search.indexing.reader import stored_image

BATCH_ROWS = 4096


def catalog_fingerprint(table: datasets.Dataset, root: Path | None) -> str:
    """SHA-256 of every column of every row (Arrow IPC, one record batch per BATCH_ROWS rows, so the same rows
    always hash alike) and of the bytes of every image the catalog gives by path."""
    digest = hashlib.sha256()
    for batch in table.with_format("arrow").iter(batch_size=BATCH_ROWS):
        batch = batch.combine_chunks()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_table(batch)
        digest.update(sink.getvalue())
        images = batch.column(IMAGE_COLUMN)
        by_path = pc.and_(pc.is_null(pc.struct_field(images, "bytes")), pc.is_valid(pc.struct_field(images, "path")))
        for path in pc.struct_field(images, "path").filter(by_path).to_pylist():
            data, problem = stored_image({"bytes": None, "path": path}, root)
            digest.update(f"{path}\0{len(data or b'')}\0{problem or ''}\0".encode())
            digest.update(data or b"")
    return digest.hexdigest()
