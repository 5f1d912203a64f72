"""Ranking within the filters: the dense, keyword and fused rankings of one catalog, as result objects.

The engine decides which ranking a query needs; this module owns how each is computed over the bundle's parts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from search.bundle import Bundle
from search.catalog.schema import NAME_COLUMN
from search.errors import InvalidQueryError
from search.query import Scope
from search.ranking.duplicates import group_near_identical
from search.ranking.filters import FilterCompiler
from search.ranking.hybrid import HybridSearcher
from search.ranking.index import RowSelector
from search.ranking.keyword import KeywordIndex
from search.results import SearchResponse, SearchResult

NO_FILTER_MATCH = "No product matches these filters; remove some to see results."
NO_KEYWORD_MATCH = "No product name or label contains these words; try other words or a semantic search."
NO_KEYWORD_INDEX = (
    "This index bundle has no keyword index (it was built before keyword search existed): use "
    "semantic_weight=1, or rebuild the bundle with this version of index_build.py."
)


class Ranker:
    """Dense, keyword and hybrid top-k of one bundle within a scope's filters, exact for every index type."""

    def __init__(self, bundle: Bundle) -> None:
        self.index = bundle.index
        self.products = bundle.products
        self.keyword = bundle.keyword
        self.filters = FilterCompiler(self.products)
        self.hybrid = HybridSearcher(self.index, self.keyword) if self.keyword is not None else None

    def by_vector(
        self,
        vector: np.ndarray,
        scope: Scope,
        text: str = "",
        keyword_weight: float = 0.0,
        exclude_rows: tuple[int, ...] = (),
    ) -> SearchResponse:
        """Dense top-k within the filters, or with keyword_weight > 0 the fused dense + keyword ranking of `text`."""
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [NO_FILTER_MATCH])
        if keyword_weight > 0.0:
            return self._fused(vector, text, keyword_weight, scope.k, selector)
        ranking = self.index.top_k(vector[None, :], scope.k + len(exclude_rows), selector)[0]
        kept = ~np.isin(ranking.rows, np.array(exclude_rows, dtype=np.int64))
        return SearchResponse(self.results(ranking.rows[kept][: scope.k], ranking.scores[kept][: scope.k]))

    def by_keywords(self, text: str, scope: Scope) -> SearchResponse:
        """BM25 top-k within the filters; only products containing a query word."""
        keyword = self.keyword_index()
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return SearchResponse([], [NO_FILTER_MATCH])
        scores, rows = keyword.search(text, scope.k, selector.allowed if selector else None)
        results = self.results(rows, scores)
        return SearchResponse(results, [] if results else [NO_KEYWORD_MATCH])

    def collapse(self, results: list[SearchResult], k: int) -> list[SearchResult]:
        """The first k groups of near-identical (stored vectors) or same-name results, each as its best result."""
        vectors = self.index.vectors(np.array([result.row for result in results], dtype=np.int64))
        names = [result.name for result in results]
        return [
            replace(results[group.leader], similar=tuple(results[member].product_id for member in group.members))
            for group in group_near_identical(vectors, limit=k, names=names)
        ]

    def keyword_index(self) -> KeywordIndex:
        """The bundle's keyword index; a bundle built without one is explained."""
        if self.keyword is None:
            raise InvalidQueryError(NO_KEYWORD_INDEX)
        return self.keyword

    def results(self, rows: np.ndarray, scores: np.ndarray) -> list[SearchResult]:
        """Result objects for ranked rows, their metadata read in one batch."""
        records = self.products.metadata_rows(rows)
        return [
            SearchResult(int(record["id"]), float(score), record[NAME_COLUMN], record, int(row))
            for record, row, score in zip(records, rows, scores, strict=True)
        ]

    def _fused(
        self, vector: np.ndarray, text: str, keyword_weight: float, k: int, selector: RowSelector | None
    ) -> SearchResponse:
        """Fused ranking over the union of the dense and keyword candidates, exact within the filters."""
        if self.hybrid is None:
            raise InvalidQueryError(NO_KEYWORD_INDEX)
        candidates = self.hybrid.candidates(vector[None, :], [text], selector, depth=max(k, self.hybrid.depth))[0]
        scores, rows = candidates.rank(keyword_weight, k)
        return SearchResponse(self.results(rows, scores))
