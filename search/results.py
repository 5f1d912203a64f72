"""What a search returns: results best first, with what the visitor should be told and the photo's label guess.

Every object here is frozen and built once by the engine (search.engine), so a cached response can be handed to
any number of callers without one of them changing what the next one sees. A text's reading (its spelling
`Correction` and the attributes `Recognised` in it) comes from the query reader (search.understanding).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from search.language import QueryText
from search.understanding.reader import Correction, Recognised
from search.zero_shot import LabelGuess

__all__ = ["NO_FACETS", "Correction", "Facets", "Recognised", "SearchResponse", "SearchResult"]

# A facet: a filter field's values present among a query's candidates, with their counts, most frequent first.
Facets = Mapping[str, tuple[tuple[str, int], ...]]
NO_FACETS: Facets = MappingProxyType({})


@dataclass(frozen=True)
class SearchResult:
    """One product found by a search."""

    product_id: int
    score: float
    name: str
    metadata: dict[str, Any]
    row: int
    # Ids of lower-ranked results with a near-identical stored vector, folded into this one (collapse_similar).
    similar: tuple[int, ...] = ()
    # False for a "related" result: it matches neither the query's words nor the attributes it names.
    matched: bool = True


@dataclass(frozen=True)
class SearchResponse:
    """Results best first, notices worth showing the user (e.g. text truncated), the time taken; for a photo, the
    zero-shot guess of its article type and colour (search.zero_shot); for text and composed queries, the text
    as typed and as searched (its English translation) with its language, the spelling correction, the
    attributes recognised, the keyword/meaning balance used, how many products match, and the facets."""

    results: tuple[SearchResult, ...]
    notices: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    labels: tuple[LabelGuess, ...] = ()
    query_text: QueryText | None = None
    correction: Correction | None = None
    recognised: tuple[Recognised, ...] = ()
    # The share of meaning (CLIP) in the ranking actually used; None for a search without text (photo only).
    semantic_weight: float | None = None
    # Products within the filters matching the query's words or recognised attributes; None where matching has no
    # meaning (photo searches, or a bundle without a keyword index and vocabulary).
    match_count: int | None = None
    facets: Facets = field(default_factory=lambda: NO_FACETS)

    def __iter__(self) -> Iterator[SearchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ids(self) -> list[int]:
        return [result.product_id for result in self.results]
