"""FAISS vector index over normalised product vectors: inner product, filters applied inside the search."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from search.errors import BundleError

logger = logging.getLogger(__name__)

# FAISS switches from its SIMD loop to BLAS matrix products at this many queries per call. This faiss-cpu build
# ships 128,000, which makes batched searches (evaluation, batched candidates) ~3× slower (docs/BENCHMARKS.md)
# and k-means over short sub-vectors (IVF-PQ training) slower still. Single queries never reach BLAS.
faiss.cvar.distance_compute_blas_threshold = 20

INDEX_TYPES = ("flat", "hnsw", "ivfpq", "ivfsq8")
IVF_TYPES = ("ivfpq", "ivfsq8")
# Up to this many products an exact flat scan stays within a few ms on 2 CPU cores and keeps filtered results
# exact; above, IVF-SQ8 meets recall@10 ≥ 0.95 at a quarter of flat's memory (measured: docs/BENCHMARKS.md).
FLAT_MAX_PRODUCTS = 50_000
LARGE_CATALOG_TYPE = "ivfsq8"
DEFAULT_PARAMS: dict[str, dict[str, int]] = {
    "flat": {},
    "hnsw": {"M": 32, "efConstruction": 80, "efSearch": 256},
    "ivfpq": {"nlist": 1024, "m": 64, "nbits": 8, "nprobe": 32},
    "ivfsq8": {"nlist": 2048, "nprobe": 64},
}
# IVF lists and codebooks are trained on an evenly spaced sample: k-means quality saturates long before a
# million points, and training on all of them takes minutes on 2 cores.
TRAIN_POINTS_PER_LIST = 64
MIN_TRAIN_POINTS = 65_536


@dataclass(frozen=True)
class IndexSpec:
    """Which FAISS index to build and its parameters; recorded in the bundle manifest."""

    type: str = "flat"
    params: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_catalog(cls, num_products: int, index_type: str = "auto", **overrides: int) -> IndexSpec:
        """The spec for a catalog size: exact flat up to FLAT_MAX_PRODUCTS, IVF-SQ8 above, unless a type is given."""
        if index_type == "auto":
            index_type = "flat" if num_products <= FLAT_MAX_PRODUCTS else LARGE_CATALOG_TYPE
        if index_type not in INDEX_TYPES:
            raise ValueError(f"Unknown index type '{index_type}'; choose one of auto, {', '.join(INDEX_TYPES)}.")
        params = {**DEFAULT_PARAMS[index_type], **{k: v for k, v in overrides.items() if v is not None}}
        if index_type in IVF_TYPES:
            params["nlist"] = max(1, min(params["nlist"], num_products // 39))
        return cls(type=index_type, params=params)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "metric": "inner_product", "params": dict(self.params)}


class VectorIndex:
    """A FAISS index whose ids are product row numbers 0..n-1."""

    def __init__(self, index: faiss.Index, spec: IndexSpec) -> None:
        self.index = index
        self.spec = spec
        self._apply_search_params()

    @classmethod
    def build(cls, vectors: np.ndarray, spec: IndexSpec) -> VectorIndex:
        """Build an index from normalised float32 vectors (row i gets id i)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        params = spec.params
        if spec.type == "flat":
            index = faiss.IndexFlatIP(dim)
        elif spec.type == "hnsw":
            index = faiss.IndexHNSWFlat(dim, params["M"], faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params["efConstruction"]
        elif spec.type == "ivfpq":
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFPQ(
                quantizer, dim, params["nlist"], params["m"], params["nbits"], faiss.METRIC_INNER_PRODUCT
            )
            index.train(_training_sample(vectors, params["nlist"]))
        elif spec.type == "ivfsq8":
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, params["nlist"], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            index.train(_training_sample(vectors, params["nlist"]))
        else:
            raise ValueError(f"Unknown index type '{spec.type}'")
        index.add(vectors)
        if spec.type in IVF_TYPES:
            index.make_direct_map()
        return cls(index, spec)

    @classmethod
    def load(cls, path: Path, spec: IndexSpec) -> VectorIndex:
        """Read an index written by `save`; a truncated or foreign file is refused clearly."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            raise BundleError(f"The FAISS index file {path.name} is corrupt or truncated: {error}") from error
        if spec.type in IVF_TYPES:
            faiss.extract_index_ivf(index).make_direct_map()
        return cls(index, spec)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    def _apply_search_params(self) -> None:
        if self.spec.type == "hnsw":
            self.index.hnsw.efSearch = self.spec.params["efSearch"]
        elif self.spec.type in IVF_TYPES:
            self.index.nprobe = self.spec.params["nprobe"]

    @property
    def dim(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Stored vectors of the given rows (exact for flat and HNSW, decoded approximations for IVF)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.empty((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(rows)

    def search(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query, best first; rows are -1 where fewer than k exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        if selector is None:
            return self.index.search(queries, k)
        return self.index.search(queries, k, params=self._params(selector))

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        if self.spec.type == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self.spec.params["efSearch"])
        if self.spec.type in IVF_TYPES:
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.spec.params["nprobe"])
        return faiss.SearchParameters(sel=selector)


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """TRAIN_POINTS_PER_LIST vectors per list (at least MIN_TRAIN_POINTS), evenly spaced: deterministic."""
    wanted = max(nlist * TRAIN_POINTS_PER_LIST, MIN_TRAIN_POINTS)
    if len(vectors) <= wanted:
        return vectors
    return vectors[np.linspace(0, len(vectors) - 1, wanted).round().astype(np.int64)]


class RowSelector:
    """A set of allowed rows as a FAISS bitmap selector (keeps its bitmap alive for FAISS)."""

    def __init__(self, allowed: np.ndarray) -> None:
        self.allowed = np.asarray(allowed, dtype=bool)
        self.count = int(self.allowed.sum())
        self._bitmap = np.packbits(self.allowed, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(len(self.allowed), faiss.swig_ptr(self._bitmap))
