"""FAISS vector index over normalised product vectors: inner product, filters applied inside the search."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import faiss
import numpy as np

from search.errors import BundleError

logger = logging.getLogger(__name__)

# FAISS switches from its SIMD loop to BLAS matrix products at this many queries per call. This faiss-cpu build
# ships 128,000, which makes batched searches (evaluation, batched candidates) ~3× slower (docs/BENCHMARKS.md)
# and k-means over short sub-vectors (IVF-PQ training) slower still. Single queries never reach BLAS.
faiss.cvar.distance_compute_blas_threshold = 20

INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"  # the exact vectors of IVF indexes (memory-mapped on load)
IndexType = Literal["flat", "hnsw", "ivfpq", "ivfsq8"]
INDEX_TYPES: tuple[IndexType, ...] = get_args(IndexType)
# The FAISS class each type is built as; a loaded file must be exactly that class.
FAISS_CLASSES = {
    "flat": faiss.IndexFlatIP,
    "hnsw": faiss.IndexHNSWFlat,
    "ivfpq": faiss.IndexIVFPQ,
    "ivfsq8": faiss.IndexIVFScalarQuantizer,
}
IVF_TYPES = ("ivfpq", "ivfsq8")
APPROXIMATE_TYPES = ("hnsw", *IVF_TYPES)
# Up to this many products an exact flat scan stays within a few ms on 2 CPU cores and keeps filtered results
# exact; above, IVF-SQ8 meets recall@10 ≥ 0.95 at a quarter of flat's memory (measured: docs/BENCHMARKS.md).
FLAT_MAX_PRODUCTS = 50_000
# IVF-SQ8 keeps ~0.5 KB per product in memory (1 GB at 2M); above, IVF-PQ keeps ~80 B and re-ranks its candidates
# with the exact vectors, which stay on disk (docs/SCALE.md).
SQ8_MAX_PRODUCTS = 2_000_000
# A filter matching at most this many products is answered by brute force over them, approximate index or not:
# as exact as, and about as fast as, a flat index of that size. Broader filters search inside the index.
EXACT_FILTER_MAX_ROWS = FLAT_MAX_PRODUCTS
DEFAULT_PARAMS: dict[str, dict[str, int]] = {
    "flat": {},
    "hnsw": {"M": 32, "efConstruction": 80, "efSearch": 256},
    "ivfpq": {"nlist": 1024, "m": 64, "nbits": 8, "nprobe": 32, "rerank": 200},
    "ivfsq8": {"nlist": 2048, "nprobe": 64, "rerank": 50},
}
# A flat index is scanned through an fp16 copy of its vectors (half the memory traffic of fp32, the scan's
# bound) for this many candidates (at least; twice k when more), which are then ordered by their exact fp32
# scores: same top-k as the fp32 scan (recall@10 1.0 at 44k, docs/BENCHMARKS.md) at about a third of the
# latency. Batches of at least FAISS's BLAS threshold scan fp32 directly, where BLAS beats any code scan.
FLAT_SCAN_CANDIDATES = 64
# k-means wants at least this many training points per centroid (FAISS warns below it).
POINTS_PER_CENTROID = 39
# IVF lists and codebooks are trained on an evenly spaced sample: k-means quality saturates long before a
# million points, and training on all of them takes minutes on 2 cores.
TRAIN_POINTS_PER_LIST = 64
MIN_TRAIN_POINTS = 65_536


@dataclass(frozen=True)
class IndexSpec:
    """Which FAISS index to build and its parameters; recorded in the bundle manifest."""

    type: IndexType = "flat"
    params: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_catalog(
        cls, num_products: int, index_type: str = "auto", dim: int | None = None, **overrides: int
    ) -> IndexSpec:
        """The spec for a catalog size (and vector dimension): exact flat up to FLAT_MAX_PRODUCTS, IVF-SQ8 up to
        SQ8_MAX_PRODUCTS, IVF-PQ with exact re-ranking above, unless a type is given. Lists and codebooks shrink
        to what the catalog can train."""
        if index_type == "auto":
            index_type = auto_type(num_products)
        if index_type not in INDEX_TYPES:
            raise ValueError(f"Unknown index type '{index_type}'; choose one of auto, {', '.join(INDEX_TYPES)}.")
        params = {**DEFAULT_PARAMS[index_type], **{k: v for k, v in overrides.items() if v is not None}}
        if index_type in IVF_TYPES:
            params["nlist"] = max(1, min(params["nlist"], num_products // POINTS_PER_CENTROID))
        if index_type == "ivfpq":
            params["nbits"] = max(1, min(params["nbits"], int(np.log2(max(2, num_products // POINTS_PER_CENTROID)))))
            if dim is not None:
                params["m"] = max(m for m in range(1, min(params["m"], dim) + 1) if dim % m == 0)
        return cls(type=index_type, params=params)


def auto_type(num_products: int) -> IndexType:
    """The index type `auto` picks for a catalog of this size."""
    if num_products <= FLAT_MAX_PRODUCTS:
        return "flat"
    return "ivfsq8" if num_products <= SQ8_MAX_PRODUCTS else "ivfpq"


class VectorIndex:
    """A FAISS index whose ids are product row numbers 0..n-1.

    IVF codes are lossy, so IVF indexes come with the exact vectors (`exact`, memory-mapped from the bundle's
    vectors file): their candidates are re-ranked with them, and `vectors` returns them. A flat index keeps its
    exact vectors itself and is scanned through an fp16 copy (`FLAT_SCAN_CANDIDATES`), re-ranked the same way.

    `without_vectors` are rows whose product has no vector (its photo could not be read at build time): they are
    stored as zeros and `top_k` never returns them, so such products are found by keywords and filters only.
    """

    def __init__(
        self,
        index: faiss.Index,
        spec: IndexSpec,
        exact: np.ndarray | None = None,
        without_vectors: Sequence[int] = (),
    ) -> None:
        if spec.type in IVF_TYPES and exact is None:
            raise ValueError(f"A {spec.type} index needs the exact vectors it re-ranks with.")
        self.index = index
        self.spec = spec
        self.exact = exact
        self.without_vectors = tuple(int(row) for row in without_vectors)
        self._searchable: RowSelector | None = None
        if self.without_vectors:
            if min(self.without_vectors) < 0 or max(self.without_vectors) >= index.ntotal:
                raise BundleError(f"Rows without vectors must be rows of the index (0 to {index.ntotal - 1}).")
            searchable = np.ones(index.ntotal, dtype=bool)
            searchable[list(self.without_vectors)] = False
            self._searchable = RowSelector(searchable)
        self._scan = fp16_copy(index) if spec.type == "flat" else None
        self._apply_search_params()

    @classmethod
    def build(cls, vectors: np.ndarray, spec: IndexSpec, without_vectors: Sequence[int] = ()) -> VectorIndex:
        """Build an index from normalised float32 vectors (row i gets id i)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        params = spec.params
        index: faiss.Index
        if spec.type == "flat":
            index = faiss.IndexFlatIP(dim)
        elif spec.type == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, params["M"], faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = params["efConstruction"]
            index = hnsw
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
            faiss.extract_index_ivf(index).make_direct_map()
        return cls(index, spec, vectors if spec.type in IVF_TYPES else None, without_vectors)

    @classmethod
    def load(cls, folder: Path, section: Mapping[str, Any]) -> VectorIndex:
        """Read an index written by `save` into the bundle folder `folder`, as its manifest section (`describe`)
        says: the exact vectors memory-mapped for IVF types; a truncated or foreign file, or one whose real type
        or metric is not the section's, is refused clearly."""
        folder = Path(folder)
        spec = IndexSpec(section["type"], dict(section["params"]))
        path = folder / INDEX_FILE
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
        without = section.get("rows_without_vectors", ())
        if spec.type not in IVF_TYPES:
            check_finite(index_chunks(index), path.name)
            return cls(index, spec, None, without)
        faiss.extract_index_ivf(index).make_direct_map()
        return cls(index, spec, load_exact(folder / VECTORS_FILE, index.ntotal, index.d, spec.type), without)

    def describe(self) -> dict[str, Any]:
        """The manifest's index section as far as the index knows it: its FAISS type and parameters, and the rows
        without a vector."""
        return {
            "type": self.spec.type,
            "metric": "inner_product",
            "params": dict(self.spec.params),
            "rows_without_vectors": list(self.without_vectors),
        }

    def save(self, folder: Path) -> None:
        """Write the FAISS index into the bundle folder `folder`, with the exact vectors when its type keeps them
        (written from their memory map as they are, not copied into memory)."""
        folder = Path(folder)
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        if self.exact is not None:
            np.save(folder / VECTORS_FILE, self.exact)

    def _apply_search_params(self) -> None:
        if self.spec.type == "hnsw":
            faiss.ParameterSpace().set_index_parameter(self.index, "efSearch", self.spec.params["efSearch"])
        elif self.spec.type in IVF_TYPES:
            faiss.ParameterSpace().set_index_parameter(self.index, "nprobe", self.spec.params["nprobe"])

    @property
    def dim(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def has_vector(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """For each row, whether its product has a vector (False for rows whose photo could not be read)."""
        rows = np.asarray(rows, dtype=np.int64)
        return self._searchable.allowed[rows] if self._searchable is not None else np.ones(len(rows), dtype=bool)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The exact stored vectors of the given rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.empty((0, self.dim), dtype=np.float32)
        if self.exact is not None:
            return np.asarray(self.exact[rows], dtype=np.float32)
        return self.index.reconstruct_batch(rows)

    def search(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query, best first; rows are -1 where fewer than k exist. IVF indexes fetch
        `rerank` candidates and order them by their exact scores."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        params = self._params(selector) if selector is not None else None
        if self._scan is not None and len(queries) < faiss.cvar.distance_compute_blas_threshold:
            depth = min(max(2 * k, FLAT_SCAN_CANDIDATES), len(self))
            return self._rerank(queries, self._scan.search(queries, depth, params=params)[1], k)
        depth = min(max(k, self.spec.params.get("rerank", k)), len(self)) if self.exact is not None else k
        scores, rows = self.index.search(queries, depth, params=params)
        if self.exact is None:
            return scores, rows
        return self._rerank(queries, rows, k)

    def _rerank(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best k candidates of each query by exact inner product (ties in row order)."""
        scores = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for position, (query, found) in enumerate(zip(queries, candidates, strict=True)):
            found = found[found >= 0]
            exact = self.vectors(found) @ query
            order = np.lexsort((found, -exact))[:k]
            scores[position, : len(order)] = exact[order]
            rows[position, : len(order)] = found[order]
        return scores, rows

    def top_k(self, queries: np.ndarray, k: int, allowed: RowSelector | None = None) -> list[Ranking]:
        """The top-k allowed rows per query, never short of k while enough rows are allowed: where an approximate
        index comes back short (a filter its probes barely reach), those queries are answered by brute force over
        the allowed rows, so filtered results are complete for every index type."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        allowed = self._searchable_within(allowed)
        available = allowed.count if allowed is not None else len(self)
        if available == 0:
            return [Ranking(np.empty(0, np.float32), np.empty(0, np.int64)) for _ in queries]
        if allowed is not None and self.spec.type in APPROXIMATE_TYPES and available <= EXACT_FILTER_MAX_ROWS:
            return [self.exact_top_k(query, k, allowed) for query in queries]
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
        """Brute force over the allowed rows' stored vectors (rows without vectors left out); ties in row order."""
        allowed = self._searchable_within(allowed)
        rows = np.flatnonzero(allowed.allowed) if allowed is not None else np.arange(len(self))
        scores = self.vectors(rows) @ query
        order = np.lexsort((rows, -scores))[:k]
        return Ranking(scores[order], rows[order])

    def _searchable_within(self, allowed: RowSelector | None) -> RowSelector | None:
        """The allowed rows that have vectors."""
        if self._searchable is None or allowed is self._searchable:
            return allowed
        if allowed is None:
            return self._searchable
        return RowSelector(allowed.allowed & self._searchable.allowed)

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        # faiss's stubs lack the keyword constructors its Python wrappers add (they also keep `sel` alive).
        if self.spec.type == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self.spec.params["efSearch"])  # type: ignore[attr-defined]
        if self.spec.type in IVF_TYPES:
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.spec.params["nprobe"])  # type: ignore[call-arg]
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]


def fp16_copy(flat: faiss.Index, chunk: int = 65_536) -> faiss.IndexScalarQuantizer:
    """An fp16 scalar-quantised copy of a flat index's vectors (ids = rows), filled a chunk at a time so that at
    most one chunk of fp32 vectors is held besides the index."""
    copy = faiss.IndexScalarQuantizer(flat.d, faiss.ScalarQuantizer.QT_fp16, flat.metric_type)
    for start in range(0, flat.ntotal, chunk):
        copy.add(flat.reconstruct_n(start, min(chunk, flat.ntotal - start)))
    return copy


def load_exact(path: Path | None, rows: int, dim: int, index_type: str) -> np.ndarray:
    """The exact vectors file of an IVF index, memory-mapped; missing or of another shape is a BundleError."""
    if path is None or not path.is_file():
        raise BundleError(f"The {index_type} index needs its exact vectors file, which the bundle lacks.")
    try:
        exact = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise BundleError(f"The exact vectors file {path.name} cannot be read: {error}") from error
    if exact.dtype != np.float32 or exact.shape != (rows, dim):
        raise BundleError(
            f"The exact vectors file {path.name} holds {exact.dtype} {exact.shape}; the index needs float32 "
            f"({rows}, {dim})."
        )
    check_finite(file_chunks(path, exact.offset, rows, dim), path.name)
    return exact


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


# Rows read at a time when stored vectors are checked (32 MB of 512-d float32).
CHECK_CHUNK_ROWS = 16_384


def check_finite(chunks: Iterator[tuple[int, np.ndarray]], name: str) -> None:
    """Refuse stored vectors holding NaN or infinite values (chunks of rows from their first row), naming the
    first rows: such a vector scores NaN against every query, and a tampered file can hold any bytes."""
    listed: list[int] = []
    count = 0
    for start, chunk in chunks:
        rows = np.flatnonzero(~np.isfinite(chunk.sum(axis=1, dtype=np.float64)))
        count += len(rows)
        listed += (rows[: 5 - len(listed)] + start).tolist()
    if count:
        raise BundleError(
            f"{name} holds {count:,} vector(s) with NaN or infinite values (rows {', '.join(map(str, listed))}"
            f"{' …' if count > len(listed) else ''}): it is corrupt or was not written by a build. Rebuild the bundle."
        )


def index_chunks(index: faiss.Index, chunk: int = CHECK_CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """The vectors a flat or HNSW index holds, a chunk of rows at a time."""
    for start in range(0, index.ntotal, chunk):
        yield start, index.reconstruct_n(start, min(chunk, index.ntotal - start))


def file_chunks(
    path: Path, offset: int, rows: int, dim: int, chunk: int = CHECK_CHUNK_ROWS
) -> Iterator[tuple[int, np.ndarray]]:
    """The float32 rows of a .npy file read a chunk at a time with plain reads: the memory map the engine serves
    from is not paged in whole by the check."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            yield start, np.frombuffer(handle.read(count * dim * 4), dtype=np.float32).reshape(count, dim)
