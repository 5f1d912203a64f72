"""Filters are normalised into one canonical, hashable key and compiled to exact row selectors from the catalog's own
labels; unknown fields and values are explained."""

import numpy as np
import pytest

from search.catalog.products import ProductTable
from search.errors import InvalidQueryError
from search.fixtures.synthetic import generate_rows
from search.ranking.filters import FILTER_FIELDS, FilterCompiler, normalise_filters


@pytest.fixture(scope="module")
def products() -> ProductTable:
    return ProductTable.from_rows(generate_rows(200, seed=5))


def test_equivalent_filters_have_one_key():
    key = normalise_filters({"gender": ["Women", "Men", "Men "], "baseColour": "Red"})
    assert key == (("baseColour", ("Red",)), ("gender", ("Men", "Women")))
    assert normalise_filters({"baseColour": ["Red"], "gender": ("Women", "Men")}) == key
    assert normalise_filters(None) == () and normalise_filters({}) == ()
    hash(key)


def test_unknown_fields_and_non_mappings_are_refused():
    with pytest.raises(InvalidQueryError, match="Unknown filter field\\(s\\) 'colour'"):
        normalise_filters({"colour": "Red"})
    with pytest.raises(InvalidQueryError, match="Filters must be a mapping"):
        normalise_filters(["gender", "Men"])


def test_selectors_allow_exactly_the_matching_rows(products):
    compiler = FilterCompiler(products)
    selector = compiler.selector(normalise_filters({"gender": ["Men", "Women"], "articleType": "Tshirts"}))
    frame = products.frame
    expected = frame.gender.isin(["Men", "Women"]) & (frame.articleType == "Tshirts")
    assert np.array_equal(selector.allowed, expected.to_numpy()) and selector.count == expected.sum()
    assert compiler.selector(()) is None


def test_choices_are_the_catalog_labels_and_unknown_values_list_them(products):
    compiler = FilterCompiler(products)
    assert set(FILTER_FIELDS) >= {"gender", "baseColour", "year"}
    assert compiler.choices("gender") == sorted(set(products.frame.gender) - {""})
    with pytest.raises(InvalidQueryError, match="No product has baseColour 'Purpel'. Known values: Beige, Black"):
        compiler.selector(normalise_filters({"baseColour": "Purpel"}))


def test_the_selector_cache_is_bounded_by_bytes_whatever_the_catalog_size():
    large = ProductTable.from_rows(generate_rows(20_000, seed=6))
    compiler = FilterCompiler(large, cache_bytes=500_000)
    colours, types = compiler.choices("baseColour"), compiler.choices("articleType")
    keys = [normalise_filters({"baseColour": c, "articleType": t}) for c in colours for t in types]
    for key in keys:
        compiler.selector(key)
    info = compiler.cache_info()
    assert 0 < info["bytes"] <= 500_000 and info["currsize"] < len(keys)
    assert info["bytes"] / info["currsize"] > 20_000  # a byte per product and a bit per product: ~22.5 KB each
    assert compiler.selector(keys[-1]) is compiler.selector(keys[-1])  # the most recent are kept


def test_a_huge_catalog_label_is_not_echoed_whole_in_errors():
    rows = generate_rows(20, seed=7)
    rows[3]["articleType"] = "Scarf " + "x" * 1_000_000
    compiler = FilterCompiler(ProductTable.from_rows(rows))
    with pytest.raises(InvalidQueryError) as refused:
        compiler.selector(normalise_filters({"articleType": "Purpel"}))
    message = str(refused.value)
    assert "No product has articleType 'Purpel'. Known values:" in message and "Scarf xxx" in message
    assert len(message) < 2_000
