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
# The FAISS class each type is built as; a loaded file must be exactly that class.
FAISS_CLASSES = {
    "flat": faiss.IndexFlatIP,
    "hnsw": faiss.IndexHNSWFlat,
    "ivfpq": faiss.IndexIVFPQ,
    "ivfsq8": faiss.IndexIVFScalarQuantizer,
}
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
            index.train(training_sample(vectors, params["nlist"]))
        elif spec.type == "ivfsq8":
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, params["nlist"], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            index.train(training_sample(vectors, params["nlist"]))
        else:
            raise ValueError(f"Unknown index type '{spec.type}'")
        index.add(vectors)
        if spec.type in IVF_TYPES:
            index.make_direct_map()
        return cls(index, spec)

    @classmethod
    def load(cls, path: Path, spec: IndexSpec) -> VectorIndex:
        """Read an index written by `save`; a truncated or foreign file, or one whose real type or metric is not
        the spec's, is refused clearly."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            raise BundleError(f"The FAISS index file {path.name} is corrupt or truncated: {error}") from error
        expected = FAISS_CLASSES[spec.type]
        if type(index) is not expected:
            raise BundleError(
                f"The FAISS index file {path.name} holds a {type(index).__name__}, but the manifest's index.type "
                f"'{spec.type}' means {expected.__name__}."
            )
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise BundleError(f"The FAISS index file {path.name} does not use inner product, which the engine needs.")
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
        """Top-k (scores, rows) per query, best first, as FAISS gives them; rows are -1 where fewer than k exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        if selector is None:
            return self.index.search(queries, k)
        return self.index.search(queries, k, params=self._params(selector))

    def top_k(self, queries: np.ndarray, k: int, allowed: RowSelector | None = None) -> list[Ranking]:
        """The top-k allowed rows per query, never short of k while enough rows are allowed: where an approximate
        index comes back short (a filter its probes barely reach), those queries are answered by brute force over
        the allowed rows, so filtered results are complete for every index type."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        available = allowed.count if allowed is not None else len(self)
        if available == 0:
            return [Ranking(np.empty(0, np.float32), np.empty(0, np.int64)) for _ in queries]
        scores, rows = self.search(queries, k, allowed.selector if allowed is not None else None)
        rankings = []
        for query, found_scores, found_rows in zip(queries, scores, rows, strict=True):
            keep = found_rows >= 0
            if keep.sum() < min(k, available):
                rankings.append(self.exact_top_k(query, k, allowed))
            else:
                rankings.append(Ranking(found_scores[keep], found_rows[keep]))
        return rankings

    def exact_top_k(self, query: np.ndarray, k: int, allowed: RowSelector | None = None) -> Ranking:
        """Brute force over the allowed rows' stored vectors; ties in row order."""
        rows = np.flatnonzero(allowed.allowed) if allowed is not None else np.arange(len(self))
        scores = self.vectors(rows) @ query
        order = np.lexsort((rows, -scores))[:k]
        return Ranking(scores[order], rows[order])

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        if self.spec.type == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self.spec.params["efSearch"])
        if self.spec.type in IVF_TYPES:
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.spec.params["nprobe"])
        return faiss.SearchParameters(sel=selector)


@dataclass(frozen=True)
class Ranking:
    """One query's rows best first, with their scores."""

    scores: np.ndarray
    rows: np.ndarray


def training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
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
