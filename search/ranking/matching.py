"""Which products match a read query: every term satisfied, by the product's words or by its labels.

A query reader (search.understanding) turns a text into terms: a plain word the catalog knows ("slim"), an
attribute it names ("red" → baseColour Red, "sneakers" → articleType Casual Shoes or Sports Shoes, "nike" →
brand Nike), or a word the catalog does not know (satisfied by no product). A product matches the query when it
satisfies every term; a query with no term (only stop words) matches nothing.

The attributes a query names are soft boosts, ranked first but never a filter: products rank in tiers (when the
keywords have a share of the ranking) — those matching the whole query, then, when some of its words are unknown
to the catalog (so nothing can match it), those carrying every attribute it names ("i'm looking for red tops": red
tops, whatever "looking" is), then the rest — and within a tier by the fused score, whose keyword side adds
ATTRIBUTE_BOOST for the attributes carried. A query whose words are all known gets no attribute tier: a product
whose words do not all match ranks by its score (KAGL's real names, which carry their labels' words, lose up to
0.01 P@1 with one, docs/EVALUATION.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.ranking.filters import FilterCompiler
from search.ranking.hybrid import KeywordSide, normalise_keyword
from search.ranking.keyword import KeywordIndex

# A read query's keyword side: its BM25 score over the best product's, plus this much times the share of the
# attributes it names that the product carries (the soft boost: "red tshirt" puts red T-shirts first).
ATTRIBUTE_BOOST = 0.5


@dataclass(frozen=True)
class Term:
    """One thing a query asks for, satisfied by a product whose keyword text holds every one of `tokens` (when
    there are any), or whose `field` label is one of `values` (when a field is given). A term with neither is
    a word no product has."""

    words: str
    tokens: tuple[str, ...] = ()
    field: str | None = None
    values: tuple[str, ...] = ()

    @property
    def is_attribute(self) -> bool:
        return self.field is not None

    @property
    def known(self) -> bool:
        """Whether some product can satisfy the term (its words or its labels are the catalog's)."""
        return bool(self.tokens) or self.is_attribute


MATCHED_TIER, ATTRIBUTES_TIER = 2, 1


@dataclass(frozen=True)
class Match:
    """Per row: whether it satisfies every term (`matched`), and how many of the query's attributes it carries."""

    matched: np.ndarray
    attributes: np.ndarray
    num_attributes: int
    # Whether every term is known to the catalog (a query with an unknown word can match no product).
    complete: bool = True

    def carrying(self) -> np.ndarray:
        """The rows carrying every attribute the query names (none when it names none)."""
        return self.attributes == self.num_attributes if self.num_attributes else np.zeros(len(self.matched), bool)

    def tiers(self) -> np.ndarray:
        """Each row's tier: MATCHED_TIER when it matches the query; ATTRIBUTES_TIER when some word of the query is
        unknown and the row carries every attribute it names (if it names any); else 0."""
        tiers = np.where(self.matched, MATCHED_TIER, 0).astype(np.int8)
        if not self.complete:
            tiers[self.carrying() & ~self.matched] = ATTRIBUTES_TIER
        return tiers


class Matcher:
    """Term masks over one catalog, from its keyword index (words) and filter codes (labels)."""

    def __init__(self, keyword: KeywordIndex, filters: FilterCompiler) -> None:
        self.keyword = keyword
        self.filters = filters
        self.rows = len(keyword)

    def satisfied(self, term: Term) -> np.ndarray:
        """The rows satisfying a term."""
        mask = np.zeros(self.rows, dtype=bool)
        if term.tokens:
            by_words = np.ones(self.rows, dtype=bool)
            for token in term.tokens:
                holds = np.zeros(self.rows, dtype=bool)
                holds[self.keyword.rows_with(token)] = True
                by_words &= holds
            mask |= by_words
        if term.field is not None and term.field in self.filters.fields:
            mask |= self.filters.mask(term.field, term.values)
        return mask

    def match(self, terms: Sequence[Term]) -> Match:
        """Which rows satisfy every term, and how many attribute terms each satisfies."""
        matched = np.full(self.rows, bool(terms))
        attributes = np.zeros(self.rows, dtype=np.int16)
        masks: dict[Term, np.ndarray] = {}
        for term in terms:
            if not term.known:
                matched[:] = False
                continue
            if term not in masks:  # a repeated word is one term's work
                masks[term] = self.satisfied(term)
            matched &= masks[term]
            if term.is_attribute:
                attributes += masks[term]
        complete = all(term.known for term in terms)
        return Match(matched, attributes, sum(term.is_attribute for term in terms), complete)


def keyword_side(scores: np.ndarray, match: Match | None) -> KeywordSide:
    """The keyword side of a query from its BM25 scores: as they are for a query that is not read; for a read
    query, over the best's plus the attribute boost, in the match's tiers."""
    if match is None:
        return KeywordSide(scores)
    side = normalise_keyword(scores)
    if match.num_attributes:
        side = side + ATTRIBUTE_BOOST * match.attributes / match.num_attributes
    return KeywordSide(side, match.tiers())
