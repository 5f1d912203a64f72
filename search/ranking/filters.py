"""Metadata filters compiled to FAISS row selectors, validated against the catalog's own labels; and the facets
(each field's values among some rows, with their counts) the same label codes give at no extra cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from search.caches import BytesLRU
from search.catalog.ids import as_product_id, shown
from search.catalog.products import ProductTable
from search.catalog.schema import LABEL_COLUMNS, YEAR_COLUMN
from search.errors import InvalidQueryError
from search.ranking.index import RowSelector

# "brand" is read from product names at build time (search.understanding.vocabulary); a bundle built before that
# knows no brands, and filtering it by brand is explained (FilterCompiler).
BRAND_FIELD = "brand"
FILTER_FIELDS = (*LABEL_COLUMNS, YEAR_COLUMN, BRAND_FIELD)
NO_BRANDS = (
    "This index bundle knows no brands (it was built before brands were read from product names): rebuild it with "
    "this version of index_build.py to filter by brand."
)
# Selectors of recent filter combinations: ~1.1 bytes per product each (50 KB at 44k products, 1.1 MB at 1M), so a
# bound in bytes keeps hundreds at 44k and tens at a million; clients choose the combinations.
SELECTOR_CACHE_BYTES = 32 * 2**20
Filters = Mapping[str, str | int | Iterable[str | int] | None]
FilterKey = tuple[tuple[str, tuple[str, ...]], ...]


def _values(name: str, value: object) -> tuple[str, ...]:
    """A field's wanted labels: a string or a list of strings (years may also be whole numbers). Nothing else is
    coerced, and an empty value is refused rather than read as "no filter"."""
    items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    if value is None or not items:
        raise InvalidQueryError(f"Filter {shown(name)} is empty; leave the field out to not filter by it.")
    labels = set()
    for item in items:
        if name == YEAR_COLUMN and not isinstance(item, str):
            year = as_product_id(item)  # the same rule: a whole number, nothing rounded
            if year is None:
                raise InvalidQueryError(f"Filter 'year' takes years as whole numbers or text, got {shown(item)}.")
            labels.add(str(year))
            continue
        if not isinstance(item, str):
            raise InvalidQueryError(f"Filter {shown(name)} takes a string or a list of strings, got {shown(value)}.")
        if not item.strip():
            raise InvalidQueryError(
                f"Filter {shown(name)} has an empty value; leave the field out to not filter by it."
            )
        labels.add(item.strip())
    return tuple(sorted(labels))


def normalise_filters(filters: Filters | None) -> FilterKey:
    """A canonical, hashable form: fields sorted, values stripped and deduplicated; every value checked."""
    if filters is None:
        return ()
    if not isinstance(filters, Mapping):
        raise InvalidQueryError("Filters must be a mapping of field name to value(s), e.g. {'gender': 'Men'}.")
    unknown = [name for name in filters if name not in FILTER_FIELDS]
    if unknown:
        raise InvalidQueryError(
            f"Unknown filter field(s) {', '.join(shown(name) for name in unknown[:5])}"
            f"{' …' if len(unknown) > 5 else ''}; filterable: {', '.join(FILTER_FIELDS)}."
        )
    return tuple((name, _values(name, filters[name])) for name in sorted(filters))


class FilterCompiler:
    """Turns filters into row selectors; each column's labels are coded once, selectors are LRU-cached within
    `cache_bytes`."""

    def __init__(
        self, products: ProductTable, brands: Sequence[str] | None = None, cache_bytes: int = SELECTOR_CACHE_BYTES
    ) -> None:
        """`brands`: each product's brand ("" for none), when the bundle knows them."""
        self._codes: dict[str, np.ndarray] = {}
        self._choices: dict[str, list[str]] = {}
        for name in FILTER_FIELDS:
            if name == BRAND_FIELD:
                if brands is None:
                    continue
                labels = pd.Series(brands, dtype="string")
            else:
                labels = products.labels(name).astype("string").fillna("")
            codes, uniques = labels.factorize(sort=True)
            # The narrowest integer type that holds the codes: 1 byte per product for most fields, not 8.
            self._codes[name] = np.asarray(codes).astype(np.min_scalar_type(len(uniques)))
            self._choices[name] = [str(value) for value in uniques]
        self._cache: BytesLRU[RowSelector] = BytesLRU(cache_bytes)

    @property
    def fields(self) -> tuple[str, ...]:
        """The filter fields this catalog has (every label field and year; brand when the bundle knows brands)."""
        return tuple(self._codes)

    def choices(self, name: str) -> list[str]:
        """The labels of a field present in the catalog, sorted, without the empty label."""
        return [value for value in self._choices[name] if value] if name in self._choices else []

    def mask(self, name: str, values: Iterable[str]) -> np.ndarray:
        """The rows whose `name` label is one of `values` (values this catalog lacks match nothing)."""
        index = {value: code for code, value in enumerate(self._choices[name])}
        return self._rows_with(name, [index[value] for value in values if value in index])

    def counts(self, name: str, rows: np.ndarray) -> tuple[tuple[str, int], ...]:
        """The field's non-empty values among the rows (a boolean mask or row numbers) with their counts, most
        frequent first, then by value."""
        tally = np.bincount(self._codes[name][rows], minlength=len(self._choices[name]))
        present = [
            (value, int(count)) for value, count in zip(self._choices[name], tally, strict=True) if count and value
        ]
        return tuple(sorted(present, key=lambda item: (-item[1], item[0])))

    def selector(self, key: FilterKey) -> RowSelector | None:
        """The selector for normalised filters (see `normalise_filters`), or None when they constrain nothing."""
        if not key:
            return None
        return self._cache.get(key, lambda: self._compile(key))

    def cache_info(self) -> dict[str, int]:
        """Hits, misses, entries and bytes of the selector cache."""
        return self._cache.info()

    def _compile(self, key: FilterKey) -> RowSelector:
        allowed = np.ones(len(next(iter(self._codes.values()))), dtype=bool)
        for name, values in key:
            allowed &= self._rows_with(name, self._code_list(name, values))
        return RowSelector(allowed)

    def _rows_with(self, name: str, codes: list[int]) -> np.ndarray:
        """The rows whose `name` code is one of `codes`: a lookup table indexed by every row's code (np.isin sorts,
        ~20× slower on a 44k catalog)."""
        wanted = np.zeros(len(self._choices[name]), dtype=bool)
        wanted[codes] = True
        return wanted[self._codes[name]]

    def _code_list(self, name: str, values: tuple[str, ...]) -> list[int]:
        if name not in self._choices:
            raise InvalidQueryError(NO_BRANDS)
        known = self._choices[name]
        unknown = [value for value in values if value not in known]
        if unknown:
            listed = ", ".join(shown(label, 40, quoted=False) for label in self.choices(name)[:30])
            raise InvalidQueryError(
                f"No product has {name} {', '.join(shown(value) for value in unknown[:5])}"
                f"{' …' if len(unknown) > 5 else ''}. Known values: {listed}"
                + (" …" if len(self.choices(name)) > 30 else "")
            )
        return [known.index(value) for value in values]
