"""Every query argument is type-checked with a specific message and never silently coerced; over-long text is cut
before any per-character work and nothing of it is kept."""

from __future__ import annotations

import gc
import math
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from search.errors import InvalidQueryError

PRODUCT = 10005  # a product of the generated catalog (ids start at 10,000)


def repr_id(value: object) -> str:
    return repr(value)[:20]


# --- over-long text ----------------------------------------------------------------------------------------------

CALLS = {
    "text": lambda engine, text: engine.search_text(text, k=3),
    "hybrid": lambda engine, text: engine.search_text(text, k=3, semantic_weight=0.5),
    "keyword": lambda engine, text: engine.search_keyword(text, k=3),
    "embed": lambda engine, text: engine.embed_text(text),
    "composed": lambda engine, text: engine.search_composed(Image.new("RGB", (64, 64), "red"), text, k=3),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_over_long_text_is_cut_before_per_character_work_and_not_kept(engine, call):
    """4 MB of text: any pass over all of it (cleaning, a copy) would allocate megabytes, and a cache holding the raw
    string would keep 4 MB after the call."""
    text = f"{call} red shirt " * 250_000
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        CALLS[call](engine, text)
        peak = tracemalloc.get_traced_memory()[1] - before
        del text
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"{peak:,} bytes allocated while answering"
    assert kept < 500_000, f"{kept:,} bytes still held after the call"


def test_cut_text_still_gets_its_notice_and_the_same_results_as_its_beginning(engine):
    text = "red shirt " * 100_000
    response = engine.search_text(text, k=5)
    assert any("1,000,000 characters" in notice and "first 2,000" in notice for notice in response.notices)
    assert response.ids == engine.search_text(text[:2_000], k=5).ids


def test_a_repeated_query_is_cached_by_its_cleaned_text(engine):
    first = engine.search_text("  blue   jeans\u200b ", k=4)
    assert engine.search_text("blue jeans", k=4).ids == first.ids


@pytest.mark.parametrize("text", [123, 4.5, b"shirt", ["shirt"], {"text": "shirt"}, True])
def test_non_text_is_refused_by_name(engine, text):
    with pytest.raises(InvalidQueryError, match="must be a string"):
        engine.search_text(text)
    with pytest.raises(InvalidQueryError, match="must be a string"):
        engine.embed_text(text)


# --- filters -----------------------------------------------------------------------------------------------------

BAD_FILTERS = [
    ({"gender": {"a": 1}}, "gender.*a string or a list of strings"),
    ({"gender": 5}, "gender.*a string or a list of strings"),
    ({"gender": 5.0}, "gender.*a string or a list of strings"),
    ({"gender": True}, "gender.*a string or a list of strings"),
    ({"gender": [1, 2]}, "gender.*a string or a list of strings"),
    ({"gender": ["Men", None]}, "gender.*a string or a list of strings"),
    ({"gender": [["Men"]]}, "gender.*a string or a list of strings"),
    ({"gender": ""}, "gender.*empty"),
    ({"gender": "   "}, "gender.*empty"),
    ({"gender": []}, "gender.*empty"),
    ({"gender": None}, "gender.*empty"),
    ({"gender": ["Men", ""]}, "gender.*empty"),
    ({"year": 2012.5}, "year.*whole number"),
    ({"year": float("nan")}, "year.*whole number"),
    ({"year": True}, "year"),
    ({"year": [2012, {"y": 1}]}, "year"),
    ({5: "Men"}, "Unknown filter field"),
    ("gender=Men", "Filters must be a mapping"),
    (["gender", "Men"], "Filters must be a mapping"),
    (7, "Filters must be a mapping"),
]


@pytest.mark.parametrize(("filters", "message"), BAD_FILTERS, ids=[repr(f)[:40] for f, _ in BAD_FILTERS])
def test_bad_filter_values_are_refused_with_a_specific_message(engine, filters, message):
    vector = engine.embed_text("shirt")[0]
    for search in (
        lambda: engine.search_text("shirt", filters=filters),
        lambda: engine.search_text("shirt", filters=filters, semantic_weight=0.0),
        lambda: engine.search_vector(vector, filters=filters),
        lambda: engine.more_like_this(PRODUCT, filters=filters),
    ):
        with pytest.raises(InvalidQueryError, match=message):
            search()


@pytest.mark.parametrize(
    "filters",
    [{"gender": "x" * 1_000_000}, {"x" * 1_000_000: "Men"}, {"gender": [f"v{n}" for n in range(10_000)]}],
    ids=["long-value", "long-field", "many-values"],
)
def test_messages_about_huge_filters_stay_short(engine, filters):
    with pytest.raises(InvalidQueryError) as error:
        engine.search_text("shirt", filters=filters)
    assert len(str(error.value)) < 1_000


@pytest.mark.parametrize(
    "filters",
    [{"gender": "Men"}, {"gender": ["Men"]}, {"gender": ("Men",)}, {"gender": " Men "}, {"gender": ["Men", "Men"]}],
)
def test_every_way_of_writing_one_label_gives_the_same_results(engine, filters):
    assert (
        engine.search_text("shirt", k=5, filters=filters).ids
        == engine.search_text("shirt", k=5, filters={"gender": "Men"}).ids
    )


def test_years_may_be_whole_numbers_or_text(engine):
    expected = engine.search_text("shirt", k=5, filters={"year": "2012"}).ids
    assert expected
    for year in (2012, 2012.0, [2012], ["2012", 2012], np.int64(2012)):
        assert engine.search_text("shirt", k=5, filters={"year": year}).ids == expected


# --- product ids -------------------------------------------------------------------------------------------------

BAD_IDS = [
    10005.5,
    "10005.5",
    "1_0005",
    "١٠٠٠٥",
    " 10005x",
    "",
    True,
    None,
    [PRODUCT],
    {"id": PRODUCT},
    b"10005",
    float("nan"),
    float("inf"),
    1e30,
    10**30,
    -(10**30),
]


@pytest.mark.parametrize("product_id", BAD_IDS, ids=repr_id)
def test_product_ids_must_be_whole_numbers(engine, product_id):
    for call in (engine.more_like_this, engine.product, engine.product_photo_bytes):
        with pytest.raises(InvalidQueryError, match="(?i)product id"):
            call(product_id)


@pytest.mark.parametrize("product_id", [PRODUCT, float(PRODUCT), str(PRODUCT), np.int64(PRODUCT)])
def test_whole_number_product_ids_are_accepted_in_any_numeric_form(engine, product_id):
    assert engine.more_like_this(product_id, k=5).ids == engine.more_like_this(PRODUCT, k=5).ids
    assert engine.product(product_id)["id"] == PRODUCT


def test_an_unknown_product_id_is_named(engine):
    with pytest.raises(InvalidQueryError, match="No product with id 999 in this catalog"):
        engine.more_like_this(999)


# --- embeddings --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit(engine) -> np.ndarray:
    return engine.embed_text("red shirt")[0].astype(np.float64)


def bad_embeddings(unit: np.ndarray) -> dict[str, tuple[object, str]]:
    values = unit.tolist()
    half = len(values) // 2
    return {
        "nested": ([values], "flat list"),
        "split": ([values[:half], values[half:]], "flat list"),
        "strings": ([str(v) for v in values], "numbers"),
        "one-string": ([*values[:-1], "0.1"], "numbers"),
        "booleans": ([True] * len(values), "numbers"),
        "one-none": ([*values[:-1], None], "numbers"),
        "none": (None, "embedding"),
        "text": ("0.1, 0.2", "a list of"),
        "mapping": ({"values": values}, "a list of"),
        "number": (0.5, "a list of"),
        "short": (values[:-1], f"{len(values) - 1} values; this index needs {len(values)}"),
        "long": (values * 1000, f"{len(values) * 1000} values; this index needs {len(values)}"),
        "nan": ([*values[:-1], float("nan")], "finite"),
        "inf": ([*values[:-1], float("inf")], "finite"),
        "huge-int": ([10**400, *values[1:]], "finite"),
        "zeros": ([0.0] * len(values), "all zeros"),
    }


def test_bad_embeddings_are_refused_with_a_specific_message(engine, unit):
    for name, (embedding, message) in bad_embeddings(unit).items():
        with pytest.raises(InvalidQueryError, match=message):
            engine.search_vector(embedding)
        assert name


@pytest.mark.parametrize("scale", [1e38, 1e300, 1e-30, 1e-300])
def test_embeddings_of_any_finite_size_search_like_their_direction(engine, unit, scale):
    scaled = (unit * scale).tolist()
    assert all(math.isfinite(value) for value in scaled)
    assert engine.search_vector(scaled, k=8).ids == engine.search_vector(unit.tolist(), k=8).ids


# --- k and weights -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [10**400, -(10**400), "1e400", [5], {"k": 5}, None], ids=repr_id)
def test_k_of_any_type_gets_a_message(engine, k):
    with pytest.raises(InvalidQueryError, match="k \\(the number of results\\)"):
        engine.search_text("shirt", k=k)


@pytest.mark.parametrize("weight", [10**400, "1e400", [0.5], {"w": 1}, float("inf")], ids=repr_id)
def test_weights_of_any_type_get_a_message(engine, weight):
    with pytest.raises(InvalidQueryError, match="semantic_weight"):
        engine.search_text("shirt", semantic_weight=weight)
    with pytest.raises(InvalidQueryError, match="image_weight"):
        engine.search_composed(Image.new("RGB", (64, 64)), "red", image_weight=weight)
