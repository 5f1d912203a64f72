"""Ranking within the filters: the dense, keyword and fused rankings of one catalog, as result objects, with how
many products match a read query and the facets of its candidates.

The engine decides which ranking a query needs; this module owns how each is computed over the bundle's parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from search.bundle import Bundle
from search.catalog.schema import NAME_COLUMN
from search.errors import InvalidQueryError
from search.query import Scope
from search.ranking.duplicates import group_near_identical
from search.ranking.filters import FilterCompiler
from search.ranking.hybrid import HybridSearcher
from search.ranking.index import RowSelector
from search.ranking.keyword import KeywordIndex, top_rows
from search.ranking.matching import Match, Matcher, Term, keyword_side
from search.results import NO_FACETS, Facets, SearchResult

NO_FILTER_MATCH = "No product matches these filters; remove some to see results."
NO_KEYWORD_MATCH = "No product name or label contains these words; try other words or a semantic search."
NO_KEYWORD_INDEX = (
    "This index bundle has no keyword index (it was built before keyword search existed): use "
    "semantic_weight=1, or rebuild the bundle with this version of index_build.py."
)


@dataclass(frozen=True)
class Found:
    """What one ranking found: results best first, its notices, how many products match the read query within
    the filters (None for a query that is not read) and the facets of the query's candidates; and how many carry
    every attribute the query names (None when it names none)."""

    results: tuple[SearchResult, ...]
    notices: tuple[str, ...] = ()
    match_count: int | None = None
    facets: Facets = field(default_factory=lambda: NO_FACETS)
    carrying: int | None = None


class Ranker:
    """Dense, keyword and hybrid top-k of one bundle within a scope's filters, exact for every index type."""

    def __init__(self, bundle: Bundle) -> None:
        self.index = bundle.index
        self.products = bundle.products
        self.keyword = bundle.keyword
        brands = bundle.vocabulary.brand_labels() if bundle.vocabulary is not None else None
        self.filters = FilterCompiler(self.products, brands)
        self.hybrid = HybridSearcher(self.index, self.keyword) if self.keyword is not None else None
        self.matcher = Matcher(self.keyword, self.filters) if self.keyword is not None else None

    def match(self, terms: Sequence[Term]) -> Match:
        """Which products satisfy every term of a read query (search.ranking.matching)."""
        if self.matcher is None:
            raise InvalidQueryError(NO_KEYWORD_INDEX)
        return self.matcher.match(terms)

    def by_vector(self, vector: np.ndarray, scope: Scope, exclude_rows: tuple[int, ...] = ()) -> Found:
        """Dense top-k within the filters; the facets are those of the results."""
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return Found((), (NO_FILTER_MATCH,))
        ranking = self.index.top_k(vector[None, :], scope.k + len(exclude_rows), selector)[0]
        kept = ~np.isin(ranking.rows, np.array(exclude_rows, dtype=np.int64))
        rows, scores = ranking.rows[kept][: scope.k], ranking.scores[kept][: scope.k]
        return Found(self.results(rows, scores), facets=self.facets(rows))

    def by_text(
        self,
        vector: np.ndarray | None,
        scope: Scope,
        text: str,
        keyword_weight: float,
        match: Match | None = None,
    ) -> Found:
        """The ranking of a text (or of a photo changed by a text): keyword only without a vector, dense only at
        keyword_weight 0, else the fused ranking over the dense and keyword candidates. With a read query's
        `match`, its tiers rank first when keywords have a share (search.ranking.matching: the products matching
        it, then those carrying every attribute it names); matching products carry `matched` and are counted; the
        facets are those of the matching products, or of the candidates when none matches."""
        selector = self.filters.selector(scope.filters)
        if selector is not None and selector.count == 0:
            return Found((), (NO_FILTER_MATCH,), 0 if match is not None else None)
        allowed = selector.allowed if selector is not None else None
        count = None if match is None else within(match.matched, allowed)
        carrying = None if match is None or not match.num_attributes else within(match.carrying(), allowed)
        if vector is not None and keyword_weight == 0.0:
            ranking = self.index.top_k(vector[None, :], scope.k, selector)[0]
            results = self.results(ranking.rows, ranking.scores, match)
            return Found(results, (), count, self._facets(scope, match, count, ranking.rows), carrying)
        side = keyword_side(self.keyword_index().scores(text), match)
        if vector is None:
            order = side.order()
            _, rows = top_rows(order, scope.k, allowed)
            results = self.results(rows, side.scores[rows], match)
            found = order > 0 if allowed is None else (order > 0) & allowed
            notices = () if results else (NO_KEYWORD_MATCH,)
            return Found(results, notices, count, self._facets(scope, match, count, found), carrying)
        hybrid = self.hybrid_searcher()
        depth = max(scope.k, hybrid.depth)
        candidates = hybrid.candidates(vector[None, :], [text], selector, depth=depth, sides=[side])[0]
        scores, rows = candidates.rank(keyword_weight, scope.k)
        results = self.results(rows, scores, match)
        return Found(results, (), count, self._facets(scope, match, count, candidates.rows), carrying)

    def collapse(self, results: Sequence[SearchResult], k: int) -> tuple[SearchResult, ...]:
        """The first k groups of near-identical (stored vectors) or same-name results, each as its best result."""
        vectors = self.index.vectors(np.array([result.row for result in results], dtype=np.int64))
        names = [result.name for result in results]
        return tuple(
            replace(results[group.leader], similar=tuple(results[member].product_id for member in group.members))
            for group in group_near_identical(vectors, limit=k, names=names)
        )

    def hybrid_searcher(self) -> HybridSearcher:
        """The bundle's hybrid candidate search; a bundle built without a keyword index is explained."""
        if self.hybrid is None:
            raise InvalidQueryError(NO_KEYWORD_INDEX)
        return self.hybrid

    def keyword_index(self) -> KeywordIndex:
        """The bundle's keyword index; a bundle built without one is explained."""
        if self.keyword is None:
            raise InvalidQueryError(NO_KEYWORD_INDEX)
        return self.keyword

    def results(self, rows: np.ndarray, scores: np.ndarray, match: Match | None = None) -> tuple[SearchResult, ...]:
        """Result objects for ranked rows, their metadata read in one batch; with a match, whether each matches."""
        records = self.products.metadata_rows(rows)
        matched = match.matched[rows] if match is not None else np.ones(len(rows), dtype=bool)
        return tuple(
            SearchResult(int(record["id"]), float(score), record[NAME_COLUMN], record, int(row), matched=bool(hit))
            for record, row, score, hit in zip(records, rows, scores, matched, strict=True)
        )

    def facets(self, rows: np.ndarray) -> Facets:
        """Each filter field's values among some rows, with their counts, most frequent first."""
        return {name: self.filters.counts(name, rows) for name in self.filters.fields}

    def _facets(self, scope: Scope, match: Match | None, count: int | None, candidates: np.ndarray) -> Facets:
        """The facets of the products matching a read query, each field counted within the other fields'
        filters (so a filtered field still lists the values it could switch to); of the candidates without."""
        if match is None or not count:
            return self.facets(candidates)
        facets = {}
        for name in self.filters.fields:
            others = tuple(item for item in scope.filters if item[0] != name)
            selector: RowSelector | None = self.filters.selector(others)
            rows = match.matched if selector is None else match.matched & selector.allowed
            facets[name] = self.filters.counts(name, rows)
        return facets


def within(rows: np.ndarray, allowed: np.ndarray | None) -> int:
    """How many of the rows (a boolean mask) the filters allow."""
    return int(rows.sum() if allowed is None else rows[allowed].sum())
