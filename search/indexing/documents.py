"""Build stage 4: every product's document vector, the index's input: the encoded shards mixed
(mix(image, text, doc_image_weight)), the reused ones copied from the previous bundle, zero for the rows without
one, written to a memory-mapped file a shard or chunk at a time (the catalog's vectors are never all in memory:
2 KB per product, 20 GB at 10M)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from search.encoding.vectors import mix
from search.indexing.shards import ShardCache
from search.ranking.index import VectorIndex

REUSE_CHUNK = 65_536


def document_vectors(
    path: Path,
    num_rows: int,
    dim: int,
    cache: ShardCache,
    doc_image_weight: float,
    without_vectors: Sequence[int],
    reused: tuple[np.ndarray, np.ndarray, VectorIndex] | None = None,
) -> np.ndarray:
    """The document vectors of all `num_rows` products, as a read-only memory map of the .npy file `path`.
    `reused` gives (rows here, rows there, the previous bundle's index) for the vectors taken over."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(num_rows, dim))
    for shard in range(cache.num_shards):
        out[cache.rows(shard)] = mix(*cache.read(shard), doc_image_weight)
    if reused is not None:
        rows, previous_rows, previous = reused
        for start in range(0, len(rows), REUSE_CHUNK):
            chunk = slice(start, start + REUSE_CHUNK)
            out[rows[chunk]] = previous.vectors(previous_rows[chunk])
    out[np.asarray(sorted(without_vectors), dtype=np.int64)] = 0.0
    out.flush()
    del out
    return np.load(path, mmap_mode="r")
