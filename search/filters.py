"""Metadata filters compiled to FAISS row selectors, validated against the catalog's own labels."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np

from search.catalog import LABEL_COLUMNS, YEAR_COLUMN
from search.errors import InvalidQueryError
from search.index import RowSelector
from search.products import ProductTable

FILTER_FIELDS = (*LABEL_COLUMNS, YEAR_COLUMN)
Filters = Mapping[str, str | int | Iterable[str | int] | None]
FilterKey = tuple[tuple[str, tuple[str, ...]], ...]


def _values(value: str | int | Iterable[str | int] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        value = [value]
    return tuple(sorted({str(item).strip() for item in value if item is not None and str(item).strip()}))


def normalise_filters(filters: Filters | None) -> FilterKey:
    """A canonical, hashable form: fields sorted, values deduplicated, empty constraints dropped."""
    if not filters:
        return ()
    if not isinstance(filters, Mapping):
        raise InvalidQueryError("Filters must be a mapping of field name to value(s), e.g. {'gender': 'Men'}.")
    unknown = [name for name in filters if name not in FILTER_FIELDS]
    if unknown:
        raise InvalidQueryError(
            f"Unknown filter field(s) {', '.join(map(repr, unknown))}; filterable: {', '.join(FILTER_FIELDS)}."
        )
    return tuple((name, values) for name in sorted(filters) if (values := _values(filters[name])))


class FilterCompiler:
    """Turns filters into row selectors; each column's labels are coded once, selectors are LRU-cached."""

    def __init__(self, products: ProductTable, cache_size: int = 256) -> None:
        self._codes: dict[str, np.ndarray] = {}
        self._choices: dict[str, list[str]] = {}
        for name in FILTER_FIELDS:
            labels = products.labels(name).astype("string").fillna("")
            codes, uniques = labels.factorize(sort=True)
            self._codes[name] = np.asarray(codes)
            self._choices[name] = [str(value) for value in uniques]
        self._cache: OrderedDict[FilterKey, RowSelector] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def choices(self, name: str) -> list[str]:
        """The labels of a field present in the catalog, sorted, without the empty label."""
        return [value for value in self._choices[name] if value]

    def selector(self, key: FilterKey) -> RowSelector | None:
        """The selector for normalised filters (see `normalise_filters`), or None when they constrain nothing."""
        if not key:
            return None
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        allowed = np.ones(len(next(iter(self._codes.values()))), dtype=bool)
        for name, values in key:
            allowed &= np.isin(self._codes[name], self._code_list(name, values))
        selector = RowSelector(allowed)
        with self._lock:
            self._cache[key] = selector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return selector

    def _code_list(self, name: str, values: tuple[str, ...]) -> list[int]:
        known = self._choices[name]
        unknown = [value for value in values if value not in known]
        if unknown:
            shown = ", ".join(self.choices(name)[:30])
            raise InvalidQueryError(
                f"No product has {name} {', '.join(map(repr, unknown))}. Known values: {shown}"
                + (" …" if len(self.choices(name)) > 30 else "")
            )
        return [known.index(value) for value in values]
