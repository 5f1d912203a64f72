"""The search facade used by the app, the client API and the evaluation: one bundle, one matching encoder.

Every public method parses its arguments once into query objects (search.query) and hands them to `search`, which
runs the query kind's plan: read the text (search.understanding: spelling, attributes, balance) → encode → dense,
keyword or hybrid ranking within the filters → results, and builds the response once.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from search.bundle import PRODUCTS_FILE, Bundle, resolve_bundle
from search.bundle.probe import check_bundle_encoder
from search.caches import BytesLRU
from search.catalog.images import ImageInput, decode_image
from search.catalog.schema import ID_COLUMN
from search.encoding.encoder import Encoder
from search.encoding.query_encoder import QueryEncoder
from search.encoding.vectors import mix
from search.errors import InvalidQueryError
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
from search.ranker import Found, Ranker
from search.ranking.duplicates import fewer_groups_notice
from search.ranking.filters import Filters
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT, keyword_share
from search.ranking.matching import Match
from search.results import SearchResponse, SearchResult
from search.understanding.reader import QueryReader, Reading
from search.zero_shot import LabelGuess, LabelGuesser

logger = logging.getLogger(__name__)

# Text searches repeat (example queries, k or filters changed back and forth); their results with metadata are
# kept up to this many bytes (docs/RELIABILITY.md measures an entry: ~22 KB at k=24, 0.35-0.6 MB at k=100 folded).
RESULT_CACHE_BYTES = 32 * 2**20
NO_TEXT_GIVEN = "No modifying text was given, so the search used the image alone."
ONLY_STOP_WORDS = (
    "The text has only common words (such as “the”, “for”, “with”), which say nothing about a product, so these "
    "results are not specific to it. Add a word for what you are looking for, e.g. “shirt” or “red”."
)
# With collapse_similar, k groups are first formed from this many times k ranked results (groups are mostly
# pairs); while fewer than k groups come out, the search looks this many times deeper, up to COLLAPSE_MAX_DEPTH.
COLLAPSE_DEPTH = 4
COLLAPSE_MAX_DEPTH = 4_096
NOTHING_MATCHES = "Nothing matches '{text}'; showing the closest by meaning."
NOTHING_MATCHES_IN_FULL = "Nothing matches '{text}' in full; showing the products that match part of it."
NOTHING_MATCHES_BUT_CARRIED = "Nothing matches '{text}' in full; showing first the products that are {named}."


@dataclass(frozen=True)
class Answer:
    """What a plan found, before `search` adds the scope's and the language step's notices and the time."""

    found: Found
    notices: tuple[str, ...] = ()
    labels: tuple[LabelGuess, ...] = ()
    reading: Reading | None = None
    semantic_weight: float | None = None


class SearchEngine:
    """Text, image, composed, more-like-this and raw-vector search over one index bundle."""

    def __init__(
        self,
        bundle: Bundle,
        encoder: Encoder,
        folder: Path | None = None,
        language: QueryLanguage | None = None,
        understand: bool = True,
    ) -> None:
        """`understand=False` searches every text as typed with the fixed default balance, as before the query
        reader existed (for before/after measurements); a bundle without a vocabulary always does."""
        self.bundle = bundle
        self.folder = folder
        self.manifest = bundle.manifest
        self.encoder = encoder
        # The query-language step (search.language): None searches every text as typed, at no cost.
        self.language = language
        self.index = bundle.index
        self.products = bundle.products
        self.keyword = bundle.keyword
        self.ranker = Ranker(bundle)
        self.filters = self.ranker.filters
        # The query reader (search.understanding): spelling, attributes, balance, honest counts. None without a
        # vocabulary and keyword index in the bundle (built before them).
        self.reader = (
            QueryReader(bundle.vocabulary, bundle.keyword)
            if understand and bundle.vocabulary is not None and bundle.keyword is not None
            else None
        )
        self.vectors = QueryEncoder(encoder)
        # Whole text searches are LRU-cached by the parsed query and scope, within RESULT_CACHE_BYTES.
        self._text_searches: BytesLRU[Answer] = BytesLRU(RESULT_CACHE_BYTES)
        self._plans: dict[type, Callable[[Any, Scope], Answer]] = {
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
        `runtime` picks the encoder's (search.encoding.encoder.choose_runtime; default auto)."""
        folder = resolve_bundle(source, revision)
        bundle = Bundle.load(folder, verify=verify)
        model = bundle.manifest.model
        if encoder is None:
            encoder = Encoder.load(model.id, model.revision, device, runtime=runtime, onnx_export=bundle.onnx)
        check_bundle_encoder(bundle, encoder)
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
        """For each filterable field, the labels present in this catalog ("brand" when the bundle knows brands)."""
        return {name: self.filters.choices(name) for name in self.filters.fields}

    def catalog_labels(self, columns: Sequence[str]) -> pd.DataFrame:
        """Every product's id (column "id") and the given metadata columns, in catalog order: a copy for choosing
        products by their labels (e.g. the page's example photos)."""
        return self.products.columns([ID_COLUMN, *columns])

    def product(self, product_id: object) -> dict[str, Any]:
        """All metadata of a product."""
        return self.products.metadata(self._row_of(product_id))

    def product_photo_bytes(self, product_id: object) -> bytes | None:
        """The product's photo exactly as stored (encoded), or None when the catalog had none."""
        return self.products.image_bytes(self._row_of(product_id))

    def result_photo_bytes(self, result: SearchResult) -> bytes | None:
        """A search result's photo exactly as stored, read at the row the search found it in (no id lookup)."""
        return self.products.image_bytes(result.row)

    def product_image(self, product_id: object) -> Image.Image | None:
        """The product's stored photo, decoded, or None when the catalog had none."""
        data = self.product_photo_bytes(product_id)
        return decode_image(data) if data else None

    def cache_info(self) -> dict[str, Any]:
        """Hits, misses and sizes of the engine's LRU caches, by name: for monitoring (and tests)."""
        caches = {**self.vectors.cache_info(), "text_searches": self._text_searches.info()}
        if self.language is not None:
            caches["query_languages"] = self.language.cache_info()
        return caches

    def batch_sizes(self) -> dict[str, dict[int, int]]:
        """How many encoder batches of each size ran, per kind ("text", "image"): for monitoring (and tests)."""
        return self.vectors.batch_sizes()

    def clear_caches(self) -> None:
        self.vectors.clear()
        self._text_searches.clear()
        if self.language is not None:
            self.language.cache_clear()

    # --- embeddings ----------------------------------------------------------------------------------------

    def embed_text(self, text: object) -> tuple[np.ndarray, list[str]]:
        """Normalised text vector (LRU-cached) and notices (e.g. truncation); empty text is refused."""
        query = TextQuery.parse(text)
        vector, notices = self.vectors.text(query.text)
        return vector, [*query.notices, *notices]

    def embed_image(self, image: ImageInput) -> np.ndarray:
        """Normalised, read-only image vector of any supported image input: checked, decoded and preprocessed in
        the caller's thread (a bad image fails alone), encoded in a batch with concurrent requests, and cached by
        its pixels (the page repeats a search with the same upload when a filter changes)."""
        return self.vectors.image(ImageQuery.parse(image).image)

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
            answer, results, collapse_notices = self._collapsed(plan, query, scope)
        else:
            answer = plan(query, scope)
            results, collapse_notices = answer.found.results, ()
        language_notices = text.notices if text else ()
        notices = (*scope.notices, *language_notices, *answer.notices, *answer.found.notices, *collapse_notices)
        reading = answer.reading
        return SearchResponse(
            results=results,
            notices=tuple(dict.fromkeys(notices)),
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            labels=answer.labels,
            query_text=text,
            correction=reading.correction if reading is not None else None,
            recognised=reading.recognised if reading is not None else (),
            semantic_weight=answer.semantic_weight,
            match_count=answer.found.match_count,
            facets=answer.found.facets,
        )

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
        correct: bool = True,
    ) -> SearchResponse:
        """Text search: semantic_weight 1 = CLIP only, 0 = keyword (BM25) only, between = a mix of both scores
        normalised over the candidates (see search.ranking.hybrid); None = the query decides (keywords lead when
        all its words are known to the catalog, meaning leads when some are not; `default_semantic_weight` for a
        bundle without a vocabulary); the response says which was used. Words the catalog does not know are
        spelling-corrected unless correct=False; attributes the text names rank first (`recognised`); products
        matching it are counted (`match_count`) and marked (`matched`). A non-English text is searched by its
        English translation unless translate=False. collapse_similar folds near-identical results into one
        (SearchResult.similar). Repeated searches are answered from an LRU cache."""
        query = TextQuery.parse(text, semantic_weight, translate, correct)
        return self.search(query, Scope.parse(k, filters, collapse_similar))

    def search_keyword(
        self, text: str, k: int = DEFAULT_K, filters: Filters | None = None, collapse_similar: bool = False
    ) -> SearchResponse:
        """Keyword search over product names and labels (read as in search_text); only products containing a
        query word or carrying an attribute it names are returned."""
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
        correct: bool = True,
    ) -> SearchResponse:
        """Image modified by text: query = normalise(w·image + (1−w)·text); w=1 is the image search,
        w=0 the text search; empty text falls back to the image alone. semantic_weight < 1 gives the keyword
        score of the text a share (1−w)·(1−semantic_weight) of the final score (None = the text decides, as in
        search_text). The text is translated and corrected as in search_text."""
        query = ComposedQuery.parse(image, text, image_weight, semantic_weight, translate, correct)
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

    def _run_text(self, query: TextQuery, scope: Scope) -> Answer:
        return self._text_searches.get((query, scope), lambda: self._text_search(query, scope))

    def _text_search(self, query: TextQuery, scope: Scope) -> Answer:
        """An uncached text search (immutable, for the result cache)."""
        reading, match, weight = self._understand(query)
        text = reading.searched if reading is not None else query.text
        vector, token_notices = (None, ()) if weight == 0.0 else self.vectors.text(text)
        found = self.ranker.by_text(vector, scope, text, 1.0 - weight, match)
        if self.keyword is not None and self.keyword.only_stop_words(text):
            said: tuple[str, ...] = (ONLY_STOP_WORDS,)
        else:
            said = nothing_matches(found, text, weight, reading)
        return Answer(found, (*query.notices, *token_notices, *said), reading=reading, semantic_weight=weight)

    def _run_image(self, query: ImageQuery, scope: Scope) -> Answer:
        vector = self.embed_image(query.image)
        return Answer(self.ranker.by_vector(vector, scope), labels=tuple(self.label_guesser.guess(vector)))

    def _run_composed(self, query: ComposedQuery, scope: Scope) -> Answer:
        if not query.text:
            return Answer(self.ranker.by_vector(self.embed_image(query.image), scope), (NO_TEXT_GIVEN,))
        if query.image_weight == 1.0:
            return Answer(self.ranker.by_vector(self.embed_image(query.image), scope))
        reading, match, weight = self._understand(query.text_query())
        keyword_weight = keyword_share(weight, query.image_weight)
        if keyword_weight == 1.0:
            return self._run_text(replace(query.text_query(), semantic_weight=0.0), scope)
        text = reading.searched if reading is not None else query.text
        text_vector, token_notices = self.vectors.text(text)
        image_vector = self.embed_image(query.image) if query.image_weight > 0.0 else text_vector
        vector = mix(image_vector, text_vector, query.image_weight)
        found = self.ranker.by_text(vector, scope, text, keyword_weight, match)
        notices = (*query.notices, *token_notices, *nothing_matches(found, text, 1.0 - keyword_weight, reading))
        return Answer(found, notices, reading=reading, semantic_weight=weight)

    def _run_similar(self, query: SimilarQuery, scope: Scope) -> Answer:
        row = self._row_of(query.product_id)
        if not self.index.has_vector([row])[0]:
            raise InvalidQueryError(
                f"Product {query.product_id} has no readable photo in this catalog, so there is nothing to compare "
                "it with; search for its name instead."
            )
        return Answer(self.ranker.by_vector(self.index.vectors(np.array([row]))[0], scope, exclude_rows=(row,)))

    def _run_vector(self, query: VectorQuery, scope: Scope) -> Answer:
        return Answer(self.ranker.by_vector(query.vector, scope, exclude_rows=query.exclude_rows))

    def _understand(self, query: TextQuery) -> tuple[Reading | None, Match | None, float]:
        """The reading of a text, which products match it, and the balance to rank it by (the query's own when
        given; else the reading's, or the default for a bundle without a vocabulary)."""
        if self.reader is None:
            weight = self.default_semantic_weight if query.semantic_weight is None else query.semantic_weight
            return None, None, weight
        reading = self.reader.read(query.text, query.correct)
        weight = reading.semantic_weight if query.semantic_weight is None else query.semantic_weight
        return reading, self.ranker.match(reading.terms), weight

    # --- helpers -------------------------------------------------------------------------------------------

    def _collapsed(
        self, plan: Callable[[Any, Scope], Answer], query: Query, scope: Scope
    ) -> tuple[Answer, tuple[SearchResult, ...], tuple[str, ...]]:
        """k groups of near-identical results, each as its best one: the ranking is read deeper until k groups
        form, every matching product was seen, or COLLAPSE_MAX_DEPTH results were; fewer groups are explained.
        Returns the deepest answer, the groups and the notice."""
        depth = scope.k * COLLAPSE_DEPTH
        while True:
            answer = plan(query, scope.with_k(depth))
            ranked = answer.found.results
            groups = self.ranker.collapse(ranked, scope.k)
            complete = len(ranked) < depth
            if len(groups) == scope.k or complete or depth >= COLLAPSE_MAX_DEPTH:
                break
            depth = min(depth * COLLAPSE_DEPTH, COLLAPSE_MAX_DEPTH)
        notice = fewer_groups_notice(len(groups), scope.k, len(ranked), complete)
        if notice is None or not any(group.similar for group in groups):
            return answer, groups, ()
        return answer, groups, (notice,)

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

    def _row_of(self, product_id: object) -> int:
        return self.products.row_of(check_product_id(product_id))


def nothing_matches(found: Found, text: str, semantic_weight: float, reading: Reading | None) -> tuple[str, ...]:
    """The notice for a read query no product matches (within the filters) though results are shown: what they are
    instead: the products carrying the attributes it names when some do and keywords have a share of the ranking,
    else the closest by meaning or by part of the words, as the balance ranked them."""
    if found.match_count != 0 or not found.results:
        return ()
    shown = text if len(text) <= 80 else text[:77].rstrip() + "…"
    complete = reading is not None and all(term.known for term in reading.terms)
    if found.carrying and reading is not None and not complete and semantic_weight < 1.0:
        named = " · ".join(dict.fromkeys(item.value for item in reading.recognised))
        return (NOTHING_MATCHES_BUT_CARRIED.format(text=shown, named=named),)
    template = NOTHING_MATCHES if semantic_weight >= 0.5 else NOTHING_MATCHES_IN_FULL
    return (template.format(text=shown),)
