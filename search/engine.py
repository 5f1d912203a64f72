"""The search facade used by the app, the client API and the evaluation: one bundle, one matching encoder.

Every public method parses its arguments once into query objects (search.query) and hands them to `search`, which
runs the query kind's plan: encode → dense, keyword or hybrid ranking within the filters → results.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from search.batcher import MicroBatcher
from search.bundle import PRODUCTS_FILE, Bundle, check_encoder_matches, resolve_bundle
from search.catalog import ID_COLUMN, NAME_COLUMN
from search.duplicates import group_near_identical
from search.encoder import Encoder
from search.errors import InvalidQueryError
from search.filters import FILTER_FIELDS, FilterCompiler, Filters
from search.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT, HybridSearcher, keyword_share
from search.images import ImageInput, decode_image, load_image
from search.index import RowSelector
from search.keyword import KeywordIndex
from search.language import QueryLanguage, QueryText
from search.query import (
    DEFAULT_K,
    ComposedQuery,
    ImageQuery,
    Query,
    Scope,
    SimilarQuery,
    TextQuery,
    VectorQuery,
    check_product_id,
)
from search.results import SearchResponse, SearchResult
from search.vector_cache import VectorCache, digest
from search.vectors import mix
from search.zero_shot import LabelGuesser

logger = logging.getLogger(__name__)

TEXT_CACHE_SIZE = 2048
RESULT_CACHE_SIZE = 512
IMAGE_CACHE_SIZE = 256  # 2 KB per 512-d vector
# Micro-batching of concurrent encodes (search.batcher): one batch runs at a time, so concurrent requests
# share a batch instead of fighting over the cores. A text batch costs about one text (the text tower streams
# its weights once); image batches only save the per-call overhead, so they stay small to keep latency fair.
BATCH_LIMITS = {"text": 32, "image": 8}
NO_FILTER_MATCH = "No product matches these filters; remove some to see results."
NO_KEYWORD_MATCH = "No product name or label contains these words; try other words or a semantic search."
NO_TEXT_GIVEN = "No modifying text was given, so the search used the image alone."
# With collapse_similar, k groups are formed from this many times k ranked results (groups are mostly pairs).
COLLAPSE_DEPTH = 4


class SearchEngine:
    """Text, image, composed, more-like-this and raw-vector search over one index bundle."""

    def __init__(
        self, bundle: Bundle, encoder: Encoder, folder: Path | None = None, language: QueryLanguage | None = None
    ) -> None:
        self.bundle = bundle
        self.folder = folder
        self.manifest = bundle.manifest
        self.encoder = encoder
        # The query-language step (search.language): None searches every text as typed, at no cost.
        self.language = language
        self.index = bundle.index
        self.products = bundle.products
        self.keyword = bundle.keyword
        self.hybrid = HybridSearcher(self.index, self.keyword) if self.keyword is not None else None
        self.filters = FilterCompiler(self.products)
        # Per-engine LRU caches (thread-safe): text vectors, and whole text searches, which visitors repeat often
        # (example queries, changing k or filters back and forth). Both are keyed by parsed, cleaned queries.
        self._encode_text = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._encode_cleaned_text)
        self._cached_text_search = functools.lru_cache(maxsize=RESULT_CACHE_SIZE)(self._text_search)
        self._image_vectors = VectorCache(IMAGE_CACHE_SIZE)
        self._batcher = MicroBatcher(
            {"text": self.encoder.encode_text, "image": self._encode_pixel_batch},
            max_batch=BATCH_LIMITS,
        )
        self._plans: dict[type, Callable[[Any, Scope], SearchResponse]] = {
            TextQuery: self._run_text,
            ImageQuery: self._run_image,
            ComposedQuery: self._run_composed,
            SimilarQuery: self._run_similar,
            VectorQuery: self._run_vector,
        }

    @classmethod
    def load(
        cls,
        source: str | Path,
        revision: str | None = None,
        device: str | None = None,
        encoder: Encoder | None = None,
        verify: bool = True,
        language: QueryLanguage | None = None,
        runtime: str | None = None,
    ) -> SearchEngine:
        """Open a bundle (local folder or Hub repo id) with the model its manifest names, or a given encoder
        that must match it; `language` (search.language.load_query_language) translates non-English queries;
        `runtime` picks the encoder's (search.encoder.choose_runtime; default auto)."""
        folder = resolve_bundle(source, revision)
        bundle = Bundle.load(folder, verify=verify)
        model = bundle.manifest.model
        if encoder is None:
            encoder = Encoder.load(model.id, model.revision, device, runtime=runtime, onnx_export=bundle.onnx)
        probe = encoder.encode_text([model.probe.text])[0]
        check_encoder_matches(model, encoder.ref.name, encoder.dim, probe)
        logger.info("Loaded bundle %s: %d products, model %s", folder, bundle.num_products, model.id)
        return cls(bundle, encoder, folder, language)

    # --- the catalog ---------------------------------------------------------------------------------------

    @property
    def num_products(self) -> int:
        return len(self.products)

    @property
    def model_id(self) -> str:
        """The model the bundle was built with (Hub id or local folder name as given to the build)."""
        return self.manifest.model.id

    @property
    def fingerprint(self) -> str:
        """A short id of this bundle's catalog content (its products file checksum): names per-bundle caches."""
        return self.manifest.files[PRODUCTS_FILE].sha256[:16]

    def filter_choices(self) -> dict[str, list[str]]:
        """For each filterable field, the labels present in this catalog."""
        return {name: self.filters.choices(name) for name in FILTER_FIELDS}

    def catalog_labels(self, columns: Sequence[str]) -> pd.DataFrame:
        """Every product's id (column "id") and the given metadata columns, in catalog order: a copy for choosing
        products by their labels (e.g. the page's example photos)."""
        return self.products.frame[[ID_COLUMN, *columns]].copy()

    def product(self, product_id: object) -> dict[str, Any]:
        """All metadata of a product."""
        return self.products.metadata(self._row_of(product_id))

    def product_photo_bytes(self, product_id: object) -> bytes | None:
        """The product's photo exactly as stored (encoded), or None when the catalog had none."""
        return self.products.image_bytes(self._row_of(product_id))

    def product_image(self, product_id: object) -> Image.Image | None:
        """The product's stored photo, decoded, or None when the catalog had none."""
        data = self.product_photo_bytes(product_id)
        return decode_image(data) if data else None

    def cache_info(self) -> dict[str, Any]:
        """Hits, misses and sizes of the engine's LRU caches, by name: for monitoring (and tests)."""
        caches = {
            "text_vectors": self._encode_text.cache_info()._asdict(),
            "text_searches": self._cached_text_search.cache_info()._asdict(),
            "image_vectors": self._image_vectors.info(),
        }
        if self.language is not None:
            caches["query_languages"] = self.language.cache_info()
        return caches

    def batch_sizes(self) -> dict[str, dict[int, int]]:
        """How many encoder batches of each size ran, per kind ("text", "image"): for monitoring (and tests)."""
        return {kind: dict(sizes) for kind, sizes in self._batcher.batch_sizes.items()}

    def clear_caches(self) -> None:
        self._encode_text.cache_clear()
        self._cached_text_search.cache_clear()
        self._image_vectors.clear()
        if self.language is not None:
            self.language.cache_clear()

    # --- embeddings ----------------------------------------------------------------------------------------

    def embed_text(self, text: object) -> tuple[np.ndarray, list[str]]:
        """Normalised text vector (LRU-cached) and notices (e.g. truncation); empty text is refused."""
        query = TextQuery.parse(text)
        vector, notices = self._text_vector(query)
        return vector, [*query.notices, *notices]

    def embed_image(self, image: ImageInput) -> np.ndarray:
        """Normalised, read-only image vector of any supported image input: checked, decoded and preprocessed in
        the caller's thread (a bad image fails alone), encoded in a batch with concurrent requests, and cached by
        its pixels (the page repeats a search with the same upload when a filter changes)."""
        pixels = self.encoder.preprocess([load_image(ImageQuery.parse(image).image)])[0]
        return self._image_vectors.get(digest(pixels.numpy()), lambda: self._batcher.submit("image", pixels))

    # --- searches ------------------------------------------------------------------------------------------

    def search(self, query: Query, scope: Scope | None = None) -> SearchResponse:
        """Run a parsed query within a scope (k and filters); the one entry point every search goes through."""
        started = time.perf_counter()
        scope = scope or Scope()
        plan = self._plans.get(type(query))
        if plan is None:
            raise InvalidQueryError(f"Unknown query type {type(query).__name__}.")
        query, text = self._read_language(query)
        if scope.collapse_similar:
            response = plan(query, scope.with_k(scope.k * COLLAPSE_DEPTH))
            response.results = self._collapse(response.results, scope.k)
        else:
            response = plan(query, scope)
        response.query_text = text
        language_notices = text.notices if text else ()
        response.notices = list(dict.fromkeys([*scope.notices, *language_notices, *response.notices]))
        response.elapsed_ms = (time.perf_counter() - started) * 1000.0
        return response

    @property
    def default_semantic_weight(self) -> float:
        """DEFAULT_SEMANTIC_WEIGHT (hybrid) when the bundle has a keyword index; 1 (CLIP only) for one without."""
        return DEFAULT_SEMANTIC_WEIGHT if self.keyword is not None else 1.0

    def search_text(
        self,
        text: str,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        semantic_weight: float | None = None,
        translate: bool = True,
        collapse_similar: bool = False,
    ) -> SearchResponse:
        """Text search: semantic_weight 1 = CLIP only, 0 = keyword (BM25) only, between = a mix of both scores
        normalised over the candidates (see search.hybrid); None = `default_semantic_weight`. A non-English text
        is searched by its English translation unless translate=False. collapse_similar folds near-identical
        results into one (SearchResult.similar). Repeated searches are answered from an LRU cache; treat the
        returned results as read-only."""
        weight = self.default_semantic_weight if semantic_weight is None else semantic_weight
        return self.search(TextQuery.parse(text, weight, translate), Scope.parse(k, filters, collapse_similar))

    def search_keyword(
        self, text: str, k: int = DEFAULT_K, filters: Filters | None = None, collapse_similar: bool = False
    ) -> SearchResponse:
        """BM25 search over product names and labels; only products containing a query word are returned."""
        return self.search(TextQuery.parse(text, 0.0), Scope.parse(k, filters, collapse_similar))

    def search_image(
        self, image: ImageInput, k: int = DEFAULT_K, filters: Filters | None = None, collapse_similar: bool = False
    ) -> SearchResponse:
        """Products that look like the photo, and the zero-shot guess of its article type and colour
        (`SearchResponse.labels`, each with its probability and whether it is clearly ahead)."""
        return self.search(ImageQuery.parse(image), Scope.parse(k, filters, collapse_similar))

    def search_composed(
        self,
        image: ImageInput,
        text: str,
        image_weight: float = DEFAULT_IMAGE_WEIGHT,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        semantic_weight: float | None = None,
        translate: bool = True,
        collapse_similar: bool = False,
    ) -> SearchResponse:
        """Image modified by text: query = normalise(w·image + (1−w)·text); w=1 is the image search,
        w=0 the text search; empty text falls back to the image alone. semantic_weight < 1 gives the keyword
        score of the text a share (1−w)·(1−semantic_weight) of the final score (None = the default). The text
        is translated as in search_text."""
        weight = self.default_semantic_weight if semantic_weight is None else semantic_weight
        query = ComposedQuery.parse(image, text, image_weight, weight, translate)
        return self.search(query, Scope.parse(k, filters, collapse_similar))

    def more_like_this(
        self, product_id: int, k: int = DEFAULT_K, filters: Filters | None = None, collapse_similar: bool = False
    ) -> SearchResponse:
        """Products nearest to a catalog product, using its stored vector (no re-encoding); itself excluded."""
        return self.search(SimilarQuery.parse(product_id), Scope.parse(k, filters, collapse_similar))

    def search_vector(
        self,
        vector: object,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        exclude_rows: tuple[int, ...] = (),
        collapse_similar: bool = False,
    ) -> SearchResponse:
        """Search by a raw embedding of the index's dimension (normalised here)."""
        query = VectorQuery.parse(vector, self.index.dim, exclude_rows)
        return self.search(query, Scope.parse(k, filters, collapse_similar))

    # --- plans, one per query kind -------------------------------------------------------------------------

    def _run_text(self, query: TextQuery, scope: Scope) -> SearchResponse:
        results, notices = self._cached_text_search(query, scope)
        return SearchResponse(list(results), list(notices))

    def _text_search(self, query: TextQuery, scope: Scope) -> tuple[tuple[SearchResult, ...], tuple[str, ...]]:
        """An uncached text search, as immutable parts for the result cache."""
        if query.semantic_weight == 0.0:
            response = self._keyword_search(query.text, scope)
        else:
            vector, token_notices = self._text_vector(query)
            response = self._vector_search(vector, scope, query.text, 1.0 - query.semantic_weight)
            response.notices[:0] = token_notices
        return tuple(response.results), (*query.notices, *response.notices)

    def _run_image(self, query: ImageQuery, scope: Scope) -> SearchResponse:
        vector = self.embed_image(query.image)
        response = self._vector_search(vector, scope)
        response.labels = self.label_guesser.guess(vector)
        return response

    def _run_composed(self, query: ComposedQuery, scope: Scope) -> SearchResponse:
        if not query.text:
            response = self._vector_search(self.embed_image(query.image), scope)
            response.notices.insert(0, NO_TEXT_GIVEN)
            return response
        keyword_weight = keyword_share(query.semantic_weight, query.image_weight)
        text = TextQuery(query.text, query.semantic_weight, query.notices, query.translate)
        if keyword_weight == 1.0:
            return self._run_text(text, scope)
        notices = list(query.notices)
        if query.image_weight == 1.0:
            vector = self.embed_image(query.image)
        else:
            text_vector, token_notices = self._text_vector(text)
            notices += token_notices
            image_vector = self.embed_image(query.image) if query.image_weight > 0.0 else text_vector
            vector = mix(image_vector, text_vector, query.image_weight)
        response = self._vector_search(vector, scope, query.text, keyword_weight)
        response.notices[:0] = notices
        return response

    def _run_similar(self, query: SimilarQuery, scope: Scope) -> SearchResponse:
        row = self._row_of(query.product_id)
        if not self.index.has_vector([row])[0]:
            raise InvalidQueryError(
                f"Product {query.product_id} has no readable photo in this catalog, so there is nothing to compare "
                "it with; search for its name instead."
            )
        return self._vector_search(self.index.vectors(np.array([row]))[0], scope, exclude_rows=(row,))

    def _run_vector(self, query: VectorQuery, scope: Scope) -> SearchResponse:
        return self._vector_search(query.vector, scope, exclude_rows=query.exclude_rows)

    # --- rankings ------------------------------------------------------------------------------------------

    def _vector_search(
        self,
        vector: np.ndarray,
        scope: Scope,
        text: str = "",
        keyword_weight: float = 0.0,
        exclude_rows: tuple[int, ...] = (),
    ) -> SearchResponse:
        """Dense top-k within the filters, or with keyword_weight > 0 the fused dense + keyword ranking."""
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [NO_FILTER_MATCH])
        if keyword_weight > 0.0:
            return self._hybrid_search(vector, text, keyword_weight, scope.k, selector)
        ranking = self.index.top_k(vector[None, :], scope.k + len(exclude_rows), selector)[0]
        results = [
            self._result(int(row), float(score))
            for score, row in zip(ranking.scores, ranking.rows, strict=True)
            if int(row) not in exclude_rows
        ]
        return SearchResponse(results[: scope.k])

    def _hybrid_search(
        self, vector: np.ndarray, text: str, keyword_weight: float, k: int, selector: RowSelector | None
    ) -> SearchResponse:
        """Fused ranking over the union of the dense and keyword candidates, exact within the filters."""
        hybrid = self._hybrid()
        candidates = hybrid.candidates(vector[None, :], [text], selector, depth=max(k, hybrid.depth))[0]
        scores, rows = candidates.rank(keyword_weight, k)
        return SearchResponse([self._result(int(row), float(score)) for score, row in zip(scores, rows, strict=True)])

    def _keyword_search(self, text: str, scope: Scope) -> SearchResponse:
        keyword = self._keyword_index()
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [NO_FILTER_MATCH])
        scores, rows = keyword.search(text, scope.k, selector.allowed if selector else None)
        results = [self._result(int(row), float(score)) for score, row in zip(scores, rows, strict=True)]
        return SearchResponse(results, [] if results else [NO_KEYWORD_MATCH])

    # --- helpers -------------------------------------------------------------------------------------------

    def _read_language(self, query: Query) -> tuple[Query, QueryText | None]:
        """A text or composed query with its text replaced by what the language step says to search (the English
        translation of a non-English text), and that reading; other queries, and texts a photo overrides, as
        they are."""
        if not isinstance(query, (TextQuery, ComposedQuery)) or not query.text:
            return query, None
        if isinstance(query, ComposedQuery) and query.image_weight == 1.0:
            return query, None
        if self.language is None:
            return query, QueryText.as_typed(query.text)
        text = self.language.read(query.text, query.translate)
        return replace(query, text=text.searched), text

    @functools.cached_property
    def label_guesser(self) -> LabelGuesser:
        """The catalog's article type and colour prompts, embedded once (on the first photo search)."""
        return LabelGuesser.build(self.encoder.encode_text, self.filter_choices(), scale=self.encoder.logit_scale)

    def _collapse(self, results: list[SearchResult], k: int) -> list[SearchResult]:
        """The first k groups of near-identical results (stored vectors), each as its best result."""
        vectors = self.index.vectors(np.array([result.row for result in results], dtype=np.int64))
        return [
            replace(results[group.leader], similar=tuple(results[member].product_id for member in group.members))
            for group in group_near_identical(vectors)[:k]
        ]

    def _text_vector(self, query: TextQuery) -> tuple[np.ndarray, list[str]]:
        """The query text's vector and, when the model had to cut it, a notice saying so."""
        vector, tokens = self._encode_text(query.text)
        if tokens <= self.encoder.max_text_tokens:
            return vector, []
        return vector, [
            f"The text has {tokens} tokens; the model reads at most {self.encoder.max_text_tokens}, "
            "so only its beginning was used."
        ]

    def _encode_cleaned_text(self, cleaned: str) -> tuple[np.ndarray, int]:
        """The read-only vector of a cleaned text (encoded in a batch with concurrent requests) and its token
        count before truncation."""
        vector = self._batcher.submit("text", cleaned).copy()  # not a view pinning the whole batch in the cache
        vector.setflags(write=False)
        return vector, self.encoder.count_tokens(cleaned)

    def _encode_pixel_batch(self, pixels: list[torch.Tensor]) -> np.ndarray:
        return self.encoder.encode_pixels(torch.stack(pixels))

    def _keyword_index(self) -> KeywordIndex:
        if self.keyword is None:
            raise InvalidQueryError(
                "This index bundle has no keyword index (it was built before keyword search existed): use "
                "semantic_weight=1, or rebuild the bundle with this version of index_build.py."
            )
        return self.keyword

    def _hybrid(self) -> HybridSearcher:
        self._keyword_index()
        return self.hybrid

    def _row_of(self, product_id: object) -> int:
        return self.products.row_of(check_product_id(product_id))

    def _result(self, row: int, score: float) -> SearchResult:
        metadata = self.products.metadata(row)
        return SearchResult(int(metadata["id"]), score, metadata[NAME_COLUMN], metadata, row)
