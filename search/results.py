"""What a search returns: results best first, with what the visitor should be told and the photo's label guess."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from search.language import QueryText
from search.zero_shot import LabelGuess


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


@dataclass
class SearchResponse:
    """Results best first, notices worth showing the user (e.g. text truncated), the time taken; for a photo, the
    zero-shot guess of its article type and colour (search.zero_shot); for text and composed queries, the text
    as typed and as searched (its English translation) with its language."""

    results: list[SearchResult]
    notices: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    labels: list[LabelGuess] = field(default_factory=list)
    query_text: QueryText | None = None

    def __iter__(self) -> Iterator[SearchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ids(self) -> list[int]:
        return [result.product_id for result in self.results]
