"""The search facade used by the app, the client API and the evaluation: one bundle, one matching encoder."""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from search.bundle import INDEX_FILE, PRODUCTS_FILE, Manifest, check_encoder_matches, read_manifest, resolve_bundle
from search.catalog import NAME_COLUMN
from search.encoder import Encoder
from search.errors import BundleError, BundleMismatchError, InvalidQueryError
from search.filters import FILTER_FIELDS, FilterCompiler, FilterKey, Filters, normalise_filters
from search.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT, HybridSearcher, keyword_share
from search.images import ImageInput, decode_image, load_image
from search.index import IndexSpec, RowSelector, VectorIndex
from search.keyword import KeywordIndex, load_keyword_index
from search.products import ProductTable
from search.query import check_k, check_vector, check_weight, clean_text

logger = logging.getLogger(__name__)

TEXT_CACHE_SIZE = 2048
RESULT_CACHE_SIZE = 512
NO_FILTER_MATCH = "No product matches these filters; remove some to see results."


@dataclass(frozen=True)
class SearchResult:
    """One product found by a search."""

    product_id: int
    score: float
    name: str
    metadata: dict[str, Any]
    row: int


@dataclass
class SearchResponse:
    """Results best first, notices worth showing the user (e.g. text truncated) and the time taken."""

    results: list[SearchResult]
    notices: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ids(self) -> list[int]:
        return [result.product_id for result in self.results]


class SearchEngine:
    """Text, image, composed, more-like-this and raw-vector search over one index bundle."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest,
        encoder: Encoder,
        index: VectorIndex,
        products: ProductTable,
        keyword: KeywordIndex | None = None,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.encoder = encoder
        self.index = index
        self.products = products
        self.keyword = keyword
        self.hybrid = HybridSearcher(index, keyword) if keyword is not None else None
        self.filters = FilterCompiler(products)
        self._filter_lock = threading.Lock()
        # Per-engine LRU caches (thread-safe): text vectors, and whole text searches, which visitors repeat often
        # (example queries, changing k or filters back and forth).
        self._encode_text = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._encode_cleaned_text)
        self._cached_text_search = functools.lru_cache(maxsize=RESULT_CACHE_SIZE)(self._text_search)
        if len(index) != len(products):
            raise BundleError(f"The index has {len(index)} vectors but the products table {len(products)} rows.")

    @classmethod
    def load(
        cls,
        source: str | Path,
        revision: str | None = None,
        device: str | None = None,
        encoder: Encoder | None = None,
        verify: bool = True,
    ) -> SearchEngine:
        """Open a bundle (local folder or Hub repo id) with the model its manifest names, or a given encoder
        that must match it."""
        folder = resolve_bundle(source, revision)
        manifest = read_manifest(folder, verify=verify)
        if encoder is None:
            model = manifest.model
            encoder = Encoder.load(model["id"], model.get("revision"), device=device)
        probe = encoder.encode_text([manifest.model.get("probe", {}).get("text", "")])[0]
        check_encoder_matches(manifest, encoder.ref.name, encoder.dim, probe)
        spec = IndexSpec(type=manifest.index["type"], params=manifest.index.get("params", {}))
        index = VectorIndex.load(folder / INDEX_FILE, spec)
        if index.dim != manifest.dim:
            raise BundleMismatchError(f"The index holds {index.dim}-d vectors; the manifest says {manifest.dim}.")
        products = ProductTable.read(folder / PRODUCTS_FILE)
        keyword = load_keyword_index(folder, manifest.components)
        if keyword is not None and len(keyword) != len(products):
            raise BundleError(f"The keyword index has {len(keyword)} products but the products table {len(products)}.")
        logger.info("Loaded bundle %s: %d products, model %s", folder, len(products), manifest.model["id"])
        return cls(folder, manifest, encoder, index, products, keyword)

    def filter_choices(self) -> dict[str, list[str]]:
        """For each filterable field, the labels present in this catalog."""
        return {name: self.filters.choices(name) for name in FILTER_FIELDS}

    def embed_text(self, text: str) -> tuple[np.ndarray, list[str]]:
        """Normalised text vector (LRU-cached) and notices (e.g. truncation); empty text is refused."""
        cleaned, notices = clean_text(text)
        if not cleaned:
            raise InvalidQueryError("Type something to search for: the text is empty.")
        vector, tokens = self._encode_text(cleaned)
        if tokens > self.encoder.max_text_tokens:
            notices.append(
                f"The text has {tokens} tokens; the model reads at most {self.encoder.max_text_tokens}, "
                "so only its beginning was used."
            )
        return vector, notices

    def _encode_cleaned_text(self, cleaned: str) -> tuple[np.ndarray, int]:
        """The read-only vector of a cleaned text and its token count before truncation."""
        vector = self.encoder.encode_text([cleaned])[0]
        vector.setflags(write=False)
        return vector, self.encoder.count_tokens(cleaned)

    def embed_image(self, image: ImageInput) -> np.ndarray:
        """Normalised image vector of any supported image input (checked and decoded safely)."""
        return self.encoder.encode_images([load_image(image)])[0]

    def search_vector(
        self, vector: object, k: int = 24, filters: Filters | None = None, exclude_rows: tuple[int, ...] = ()
    ) -> SearchResponse:
        """Search by a raw embedding of the index's dimension (normalised here)."""
        started = time.perf_counter()
        query = check_vector(vector, self.index.dim)
        return self._finish(self._search(query, k, filters, exclude_rows), started)

    def search_text(
        self,
        text: str,
        k: int = 24,
        filters: Filters | None = None,
        semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT,
    ) -> SearchResponse:
        """Text search: semantic_weight 1 = CLIP only, 0 = keyword (BM25) only, between = a mix of both scores
        normalised over the candidates (see search.hybrid). Repeated searches are answered from an LRU cache;
        treat the returned results as read-only."""
        started = time.perf_counter()
        weight = check_weight(semantic_weight, "semantic_weight")
        check_k(k)  # checked before the cache lookup: a bad k or text gets its own message, not "unhashable"
        clean_text(text)
        results, notices = self._cached_text_search(text, k, normalise_filters(filters), weight)
        return self._finish(SearchResponse(list(results), list(notices)), started)

    def _text_search(
        self, text: str, k: int, filters: FilterKey, weight: float
    ) -> tuple[tuple[SearchResult, ...], tuple[str, ...]]:
        """An uncached text search, as immutable parts for the result cache."""
        response = self._uncached_text_search(text, k, dict(filters), weight)
        return tuple(response.results), tuple(response.notices)

    def _uncached_text_search(self, text: str, k: int, filters: Filters, weight: float) -> SearchResponse:
        started = time.perf_counter()
        if weight == 0.0:
            return self.search_keyword(text, k, filters)
        vector, notices = self.embed_text(text)
        if weight == 1.0:
            return self._finish(self._search(vector, k, filters), started, notices)
        cleaned, _ = clean_text(text)
        return self._finish(self._search_hybrid(vector, cleaned, 1.0 - weight, k, filters), started, notices)

    def search_keyword(self, text: str, k: int = 24, filters: Filters | None = None) -> SearchResponse:
        """BM25 search over product names and labels; only products containing a query word are returned."""
        started = time.perf_counter()
        cleaned, notices = clean_text(text)
        if not cleaned:
            raise InvalidQueryError("Type something to search for: the text is empty.")
        keyword = self._keyword_index()
        k, limit_notices = check_k(k)
        notices += limit_notices
        selector = self._selector(filters)
        if selector is not None and selector.count == 0:
            return self._finish(SearchResponse([], notices), started, [NO_FILTER_MATCH])
        scores, rows = keyword.search(cleaned, k, selector.allowed if selector else None)
        if len(rows) == 0:
            notices.append("No product name or label contains these words; try other words or a semantic search.")
        results = [self._result(int(row), float(score)) for score, row in zip(scores, rows, strict=True)]
        return self._finish(SearchResponse(results, notices), started)

    def search_image(self, image: ImageInput, k: int = 24, filters: Filters | None = None) -> SearchResponse:
        started = time.perf_counter()
        return self._finish(self._search(self.embed_image(image), k, filters), started)

    def search_composed(
        self,
        image: ImageInput,
        text: str,
        image_weight: float = DEFAULT_IMAGE_WEIGHT,
        k: int = 24,
        filters: Filters | None = None,
        semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT,
    ) -> SearchResponse:
        """Image modified by text: query = normalise(w·image + (1−w)·text); w=1 is the image search,
        w=0 the text search; empty text falls back to the image alone. semantic_weight < 1 gives the keyword
        score of the text a share (1−w)·(1−semantic_weight) of the final score."""
        started = time.perf_counter()
        weight = check_weight(image_weight, "image_weight")
        keyword_weight = keyword_share(check_weight(semantic_weight, "semantic_weight"), weight)
        cleaned, _ = clean_text(text)
        if not cleaned:
            response = self.search_image(image, k, filters)
            response.notices.insert(0, "No modifying text was given, so the search used the image alone.")
            return response
        if keyword_weight == 1.0:
            return self.search_keyword(cleaned, k, filters)
        notices: list[str] = []
        if weight == 0.0:
            vector, notices = self.embed_text(cleaned)
        elif weight == 1.0:
            vector = self.embed_image(image)
        else:
            image_vector = self.embed_image(image)
            text_vector, notices = self.embed_text(cleaned)
            vector = weight * image_vector + (1.0 - weight) * text_vector
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        if keyword_weight > 0.0:
            return self._finish(self._search_hybrid(vector, cleaned, keyword_weight, k, filters), started, notices)
        return self._finish(self._search(vector, k, filters), started, notices)

    def more_like_this(self, product_id: int, k: int = 24, filters: Filters | None = None) -> SearchResponse:
        """Products nearest to a catalog product, using its stored vector (no re-encoding); itself excluded."""
        started = time.perf_counter()
        row = self.products.row_of(product_id)
        vector = self.index.vectors(np.array([row]))[0]
        return self._finish(self._search(vector, k, filters, exclude_rows=(row,)), started)

    def product(self, product_id: int) -> dict[str, Any]:
        """All metadata of a product."""
        return self.products.metadata(self.products.row_of(product_id))

    @property
    def num_products(self) -> int:
        return len(self.products)

    @property
    def model_id(self) -> str:
        """The model the bundle was built with (Hub id or local folder name as given to the build)."""
        return str(self.manifest.model["id"])

    @property
    def fingerprint(self) -> str:
        """A short id of this bundle's catalog content (its products file checksum): names per-bundle caches."""
        return str(self.manifest.files[PRODUCTS_FILE]["sha256"][:16])

    def product_photo_bytes(self, product_id: int) -> bytes | None:
        """The product's photo exactly as stored (encoded), or None when the catalog had none."""
        return self.products.image_bytes(self.products.row_of(product_id))

    def product_image(self, product_id: int) -> Image.Image | None:
        """The product's stored photo, decoded, or None when the catalog had none."""
        data = self.product_photo_bytes(product_id)
        return decode_image(data) if data else None

    def _search(
        self, vector: np.ndarray, k: int, filters: Filters | None, exclude_rows: tuple[int, ...] = ()
    ) -> SearchResponse:
        k, notices = check_k(k)
        with self._filter_lock:
            selector = self.filters.selector(filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [*notices, "No product matches these filters; remove some to see results."])
        wanted = k + len(exclude_rows)
        scores, rows = self.index.search(vector[None, :], wanted, selector.selector if selector else None)
        scores, rows = scores[0], rows[0]
        available = selector.count if selector else len(self.index)
        if (rows >= 0).sum() < min(wanted, available):
            scores, rows = self._exact_search(vector, wanted, selector.allowed if selector else None)
        results = [
            self._result(int(row), float(score))
            for score, row in zip(scores, rows, strict=True)
            if row >= 0 and int(row) not in exclude_rows
        ][:k]
        return SearchResponse(results, notices)

    def _search_hybrid(
        self, vector: np.ndarray, text: str, keyword_weight: float, k: int, filters: Filters | None
    ) -> SearchResponse:
        """Fused ranking over the union of the dense and keyword candidates, exact within the filters."""
        self._keyword_index()
        k, notices = check_k(k)
        selector = self._selector(filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [*notices, NO_FILTER_MATCH])
        candidates = self.hybrid.candidates(vector[None, :], [text], selector, depth=max(k, self.hybrid.depth))[0]
        scores, rows = candidates.rank(keyword_weight, k)
        results = [self._result(int(row), float(score)) for score, row in zip(scores, rows, strict=True)]
        return SearchResponse(results, notices)

    def _keyword_index(self) -> KeywordIndex:
        if self.keyword is None:
            raise InvalidQueryError(
                "This index bundle has no keyword index (it was built before keyword search existed): use "
                "semantic_weight=1, or rebuild the bundle with this version of index_build.py."
            )
        return self.keyword

    def _selector(self, filters: Filters | None) -> RowSelector | None:
        with self._filter_lock:
            return self.filters.selector(filters)

    def _exact_search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Brute force over the allowed rows, for approximate indexes whose filtered search came back short."""
        rows = np.flatnonzero(allowed) if allowed is not None else np.arange(len(self.index))
        scores = self.index.vectors(rows) @ vector
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order], rows[order]

    def _result(self, row: int, score: float) -> SearchResult:
        metadata = self.products.metadata(row)
        return SearchResult(int(metadata["id"]), score, metadata[NAME_COLUMN], metadata, row)

    @staticmethod
    def _finish(response: SearchResponse, started: float, notices: list[str] | None = None) -> SearchResponse:
        response.notices = [*(notices or []), *response.notices]
        response.elapsed_ms = (time.perf_counter() - started) * 1000.0
        return response
