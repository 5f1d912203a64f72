"""Shareable searches: the URL query string that opens a search again, and what a query string asks for.

A link carries the tab, the text (and whether it was searched as typed: untranslated, or without its spelling
correction), the weights, the number of results and the filters, e.g. `?tab=text&q=red+shirt&w=0.4&gender=Men`. A
photo cannot travel in a link (uploads are private and swept), so a photo search's link opens its tab with its text,
weights and filters; "More like this" travels as the product's id (`like=`). Values are read as given: the engine
checks them when the search runs, so a wrong one gets the same message as a typed one.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from search import DEFAULT_IMAGE_WEIGHT, DEFAULT_K, MAX_K, RAW_TEXT_LIMIT, ComposedQuery, Query, SimilarQuery, TextQuery
from ui.settings import UI_FILTERS
from ui.state import TABS
from ui.views import Inputs

TAB, TEXT, WEIGHT, IMAGE_WEIGHT, K, LIKE, AS_TYPED = "tab", "q", "w", "iw", "k", "like", "typed"
UNCORRECTED = "exact"  # the words searched as typed, without their spelling correction
YES = "1"


def link_to(tab: str, query: Query | None, k: int, filters: dict[str, list[str]]) -> str:
    """The query string (without "?") that opens this search of `tab` again; defaults are left out."""
    params: list[tuple[str, str]] = [(TAB, tab)]
    if isinstance(query, SimilarQuery):
        params.append((LIKE, str(query.product_id)))
    elif isinstance(query, (TextQuery, ComposedQuery)) and query.text:
        params.append((TEXT, query.text))
        if isinstance(query, ComposedQuery):
            params.append((IMAGE_WEIGHT, f"{query.image_weight:g}"))
        if query.semantic_weight is not None:  # None: the query's words decide, as when the link is opened
            params.append((WEIGHT, f"{query.semantic_weight:g}"))
        if not query.translate:
            params.append((AS_TYPED, YES))
        if not query.correct:
            params.append((UNCORRECTED, YES))
    elif isinstance(query, ComposedQuery):
        params.append((IMAGE_WEIGHT, f"{query.image_weight:g}"))
    if k != DEFAULT_K:
        params.append((K, str(k)))
    params += [(name, value) for name, values in filters.items() for value in values]
    return urlencode(params)


@dataclass(frozen=True)
class Link:
    """What a query string asks for, as given (strings; None where it says nothing)."""

    tab: str = TABS[0]
    text: str = ""
    semantic_weight: str | None = None
    image_weight: str | None = None
    k: str | None = None
    like: str | None = None
    translate: bool = True
    filters: dict[str, list[str]] = field(default_factory=dict)
    correct: bool = True

    @classmethod
    def parse(cls, query_string: str) -> "Link":
        """A query string with or without its "?"; unknown names are ignored, a name given twice keeps its first
        value (filters keep every value), an unknown tab is the first tab."""
        params = parse_qs(query_string.removeprefix("?"), keep_blank_values=False)

        def first(name: str) -> str | None:
            return params[name][0] if name in params else None

        tab = first(TAB)
        return cls(
            tab=tab if tab in TABS else TABS[0],
            text=first(TEXT) or "",
            semantic_weight=first(WEIGHT),
            image_weight=first(IMAGE_WEIGHT),
            k=first(K),
            like=first(LIKE),
            translate=first(AS_TYPED) != YES,
            correct=first(UNCORRECTED) != YES,
            filters={name: params[name] for name in UI_FILTERS if name in params},
        )

    def filter_values(self) -> list[list[str] | None]:
        """The filters in the page's dropdown order, as the page's handlers take them."""
        return [self.filters.get(name) for name in UI_FILTERS]

    def inputs(self, semantic_weight: float, choices: Mapping[str, Sequence[str]]) -> Inputs:
        """The page's inputs as this link sets them: what it says where a control can show it, else the control's
        default (the search itself says what was wrong); only filter values the catalog has. A link without a
        balance lets the words decide it."""
        k = number_in(self.k, 1, MAX_K, DEFAULT_K)
        chosen = number_in(self.semantic_weight, 0.0, 1.0, math.nan)  # NaN: the link sets no balance
        return Inputs(
            tab=self.tab,
            text=self.text[:RAW_TEXT_LIMIT],
            semantic_weight=semantic_weight if math.isnan(chosen) else chosen,
            chosen_weight=None if math.isnan(chosen) else chosen,
            image_weight=number_in(self.image_weight, 0.0, 1.0, DEFAULT_IMAGE_WEIGHT),
            k=int(k) if k == int(k) else DEFAULT_K,
            filters={
                name: [value for value in values if value in choices.get(name, ())]
                for name, values in self.filters.items()
            },
        )


def number_in(value: str | None, low: float, high: float, default: float) -> float:
    """`value` as a number in [low, high], or `default` when it is none, no number or out of range."""
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return number if math.isfinite(number) and low <= number <= high else default
