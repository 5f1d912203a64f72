"""Query arguments are parsed once into immutable, hashable query objects, or refused with a specific message."""

import math

import numpy as np
import pytest

import search.query
from search.errors import InvalidImageError, InvalidQueryError
from search.query import (
    MAX_K,
    MAX_TEXT_CHARS,
    RAW_TEXT_LIMIT,
    ComposedQuery,
    ImageQuery,
    Scope,
    SimilarQuery,
    TextQuery,
    VectorQuery,
    check_vector,
)


def test_text_is_cleaned_once_and_equal_texts_make_equal_cache_keys():
    query = TextQuery.parse("  red\x00\u200b   shirt\n\tfor men ", 0.7)
    assert query == TextQuery("red shirt for men", 0.7) and query.notices == ()
    assert hash(query) == hash(TextQuery.parse("red shirt for men", 0.7))
    assert hash((query, Scope.parse(10, {"gender": "Men"}))) == hash((query, Scope(10, (("gender", ("Men",)),))))


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("T\u00adshirts", "Tshirts"),  # soft hyphen
        ("T\u200dshirts", "Tshirts"),  # a joiner between ASCII letters
        ("blue\u2060jeans", "bluejeans"),  # word joiner
        ("\ufeffred \u200eshirt\u200f", "red shirt"),  # byte order and direction marks
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian: the non-joiner belongs to the word
        ("👨\u200d👩\u200d👧 dress", "👨\u200d👩\u200d👧 dress"),  # one emoji, not three
        ("red\u200bshirt", "red shirt"),  # zero width space separates words
        ("red\u2028shirt", "red shirt"),  # line separator
    ],
)
def test_invisible_formatting_never_splits_a_word(typed, cleaned):
    assert TextQuery.parse(typed).text == cleaned


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", None, "\u200c\u200d", "\u00ad \u200d"])
def test_empty_text_is_refused(text):
    with pytest.raises(InvalidQueryError, match="Type something to search for"):
        TextQuery.parse(text)


@pytest.mark.parametrize("text", [42, ["red"], {"text": "red"}, b"red"])
def test_non_string_text_is_refused_by_type(text):
    with pytest.raises(InvalidQueryError, match=f"must be a string, got {type(text).__name__}"):
        TextQuery.parse(text)


def test_over_long_text_is_cut_before_any_per_character_work(monkeypatch):
    seen = []
    category = search.query.unicodedata.category
    monkeypatch.setattr(search.query.unicodedata, "category", lambda char: seen.append(char) or category(char))
    query = TextQuery.parse("red shirt " * 1_000_000)
    assert len(seen) <= RAW_TEXT_LIMIT
    assert len(query.text) <= MAX_TEXT_CHARS and query.text.startswith("red shirt red")
    assert query.notices == (f"The text was 10,000,000 characters long; only the first {MAX_TEXT_CHARS:,} were used.",)


@pytest.mark.parametrize(
    ("k", "message"),
    [(0, "at least 1"), (2.5, "whole number"), ("ten", "whole number"), (True, "whole number"), (None, "whole")],
)
def test_bad_k_is_refused(k, message):
    with pytest.raises(InvalidQueryError, match=message):
        Scope.parse(k)


def test_large_k_is_clamped_with_a_notice():
    scope = Scope.parse(10_000)
    assert scope.k == MAX_K and "reduced to 100" in scope.notices[0]
    assert Scope.parse("12").k == 12 and Scope.parse(12.0).k == 12


@pytest.mark.parametrize("weight", [-0.1, 1.5, math.nan, math.inf, "heavy", True, [0.5]])
def test_bad_weights_are_refused(weight):
    with pytest.raises(InvalidQueryError, match="semantic_weight must be"):
        TextQuery.parse("red shirt", weight)
    with pytest.raises(InvalidQueryError, match="image_weight must be"):
        ComposedQuery.parse(b"image", "red", weight)


def test_no_semantic_weight_lets_the_query_decide_but_an_image_weight_is_needed():
    assert TextQuery.parse("red shirt", None).semantic_weight is None
    assert ComposedQuery.parse(b"image", "red", 0.5, None).semantic_weight is None
    with pytest.raises(InvalidQueryError, match="image_weight must be"):
        ComposedQuery.parse(b"image", "red", None)


@pytest.mark.parametrize(("value", "expected"), [(15970, 15970), (15970.0, 15970), ("15970", 15970), (np.int64(7), 7)])
def test_product_ids_that_are_whole_numbers(value, expected):
    assert SimilarQuery.parse(value).product_id == expected


@pytest.mark.parametrize("value", [1.5, "12abc", "1e3", True, None, [1], math.nan, "", {"id": 1}])
def test_other_product_ids_are_refused_without_coercion(value):
    with pytest.raises(InvalidQueryError, match="product id must be a whole number"):
        SimilarQuery.parse(value)


def test_vectors_are_checked_and_normalised_without_overflow():
    huge = check_vector([3e38, 4e38, 0.0], 3)
    np.testing.assert_allclose(huge, [0.6, 0.8, 0.0], rtol=1e-6)
    assert not huge.flags.writeable
    assert VectorQuery.parse([1, 0, 0], 3, exclude_rows=(4,)).exclude_rows == (4,)


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ([1.0, 2.0], "has 2 values; this index needs 3"),
        ([[1.0, 2.0, 3.0]], "flat list of 3 numbers, got shape"),
        ([1.0, math.nan, 0.0], "NaN or infinite"),
        ([1.0, "x", 0.0], "flat list of 3 numbers"),
        ([0, 0, 0], "all zeros"),
        ("1,2,3", "list of 3 numbers, got str"),
        ({"a": 1}, "list of 3 numbers, got dict"),
        (None, "list of 3 numbers, got NoneType"),
    ],
)
def test_bad_vectors_are_explained(vector, message):
    with pytest.raises(InvalidQueryError, match=message):
        check_vector(vector, 3)


def test_images_of_unsupported_types_are_refused_before_decoding():
    with pytest.raises(InvalidImageError, match="No image was given"):
        ImageQuery.parse(None)
    with pytest.raises(InvalidImageError, match="Unsupported image input of type dict"):
        ImageQuery.parse({"path": "/etc/passwd"})


def test_composed_queries_keep_an_empty_text_as_the_photo_alone():
    query = ComposedQuery.parse(b"bytes", "   ", 0.3)
    assert query.text == "" and query.image_weight == 0.3


def test_text_queries_are_translated_unless_asked_not_to():
    assert TextQuery.parse("robe rouge").translate
    assert not TextQuery.parse("robe rouge", translate=False).translate
    assert TextQuery.parse("robe rouge") != TextQuery.parse("robe rouge", translate=False)
    assert not ComposedQuery.parse(b"photo", "robe rouge", translate=False).translate


@pytest.mark.parametrize("flag", ["false", 0, 1, None, [True]])
def test_translate_and_correct_accept_only_true_or_false(flag):
    with pytest.raises(InvalidQueryError, match="translate must be true or false"):
        TextQuery.parse("robe rouge", translate=flag)
    with pytest.raises(InvalidQueryError, match="translate must be true or false"):
        ComposedQuery.parse(b"photo", "robe rouge", translate=flag)
    with pytest.raises(InvalidQueryError, match="correct must be true or false"):
        TextQuery.parse("jeens", correct=flag)
    with pytest.raises(InvalidQueryError, match="correct must be true or false"):
        ComposedQuery.parse(b"photo", "jeens", correct=flag)
    assert TextQuery.parse("jeens", correct=False) != TextQuery.parse("jeens")
