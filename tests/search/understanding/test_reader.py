"""The query reader on the test bundle's catalog: attributes recognised (longest run first), only unknown words
corrected, the balance decided by the words, and bad input read without fuss."""

import pytest

from search.query import RAW_TEXT_LIMIT, TextQuery
from search.results import Recognised
from search.understanding.reader import (
    KEYWORDS_LEAD,
    MAX_CORRECTED,
    MAX_READ_WORDS,
    MEANING_LEADS,
    MEANING_ONLY,
    UNREAD,
)
from search.understanding.vocabulary import text_words


@pytest.fixture(scope="module")
def reader(engine):
    return engine.reader


def named(reading) -> list[tuple[str, str, str]]:
    return [(item.field, item.value, item.words) for item in reading.recognised]


def test_a_query_names_colour_brand_type_and_gender(reader):
    reading = reader.read("Red Nike T-shirts for men")
    assert named(reading) == [
        ("baseColour", "Red", "red"),
        ("brand", "Nike", "nike"),
        ("articleType", "Tshirts", "tshirts"),
        ("gender", "Men", "men"),
    ]
    assert reading.correction is None and reading.searched == "Red Nike T-shirts for men"
    assert reading.semantic_weight == KEYWORDS_LEAD
    assert [term.field for term in reading.terms] == ["baseColour", "brand", "articleType", "gender"]


def test_the_longest_run_of_words_wins(reader):
    assert named(reader.read("navy blue jeans"))[0] == ("baseColour", "Navy Blue", "navy blue")
    assert named(reader.read("casual shoes")) == [("articleType", "Casual Shoes", "casual shoes")]
    assert named(reader.read("casual")) == [("usage", "Casual", "casual")]
    assert named(reader.read("dress")) == [("articleType", "Dresses", "dress")]


def test_shopper_synonyms_name_the_catalog_labels(reader):
    assert named(reader.read("sneakers for ladies")) == [
        ("articleType", "Casual Shoes", "sneakers"),
        ("gender", "Women", "ladies"),
    ]


def test_unknown_words_are_corrected_to_catalog_words(reader):
    reading = reader.read("Levis JEENS snekers")
    assert reading.correction.changes == (("jeens", "jeans"), ("snekers", "sneakers"))
    assert reading.correction.typed == "Levis JEENS snekers" and reading.searched == "Levis jeans sneakers"
    assert ("articleType", "Jeans", "jeans") in named(reading)
    assert reader.read("Levis JEENS", correct=False).searched == "Levis JEENS"
    assert reader.read("Levis JEENS", correct=False).correction is None


def test_a_word_the_catalog_knows_is_never_corrected(reader, engine):
    words = [word for word in reader.vocabulary.words if word.isalpha()]
    assert words and all(reader.read(word).correction is None for word in words)
    for name in engine.products.frame.productDisplayName[::7]:
        if name:
            assert reader.read(name).correction is None, name


def test_the_words_decide_the_balance(reader):
    assert reader.read("blue jeans").semantic_weight == KEYWORDS_LEAD
    assert reader.read("a gift for my father").semantic_weight == MEANING_ONLY
    assert reader.read("blue jeans for my father").semantic_weight == MEANING_LEADS
    assert reader.read("🙂").semantic_weight == MEANING_ONLY


@pytest.mark.parametrize(
    "text",
    [
        "🙂🙂🙂",
        "x",
        "a b c d e",
        "32",
        "xl",
        "jeans 32 xl",
        "t - shirt !!",
        " ".join(["blue", "jeans", "zzq", "for", "men"] * 8),
        "jeens " * 1600,
        "a" * RAW_TEXT_LIMIT,
    ],
)
def test_bad_input_is_read_without_fuss(reader, engine, text):
    query = TextQuery.parse(text)
    reading = reader.read(query.text)
    assert len(reading.terms) <= len(text_words(query.text))
    assert all(isinstance(item, Recognised) for item in reading.recognised)
    response = engine.search_text(text, k=5)
    assert len(response) == 5 and response.match_count is not None


@pytest.mark.parametrize("text", ["", "   ", "🙂", "!!"])
def test_a_text_without_words_reads_as_nothing(reader, text):
    reading = reader.read(text)
    assert reading.terms == () and reading.recognised == () and reading.correction is None
    assert reading.semantic_weight == MEANING_ONLY


def test_sizes_and_digits_are_words_nothing_matches(reader):
    reading = reader.read("jeans 32 xl")
    assert reading.correction is None and [term.known for term in reading.terms] == [True, False, False]


def test_only_the_first_words_of_a_long_text_are_read(reader):
    text = " ".join(["blue", "jeans"] * MAX_READ_WORDS)
    reading = reader.read(text)
    assert len(reading.terms) == MAX_READ_WORDS + 1 and reading.terms[-1].words == UNREAD
    assert not reading.terms[-1].known
    assert reader.read("blue jeans").terms == reading.terms[:2]


def test_only_a_few_unknown_words_are_looked_up_for_a_correction(reader):
    words = sorted(word for word in reader.vocabulary.words if word.isalpha() and len(word) >= 7)
    typos = [typo for word in words if reader.read(typo := word[:3] + word[4:]).correction is not None]
    assert len(typos) > MAX_CORRECTED
    reading = reader.read(" ".join(typos))
    assert len(reading.correction.changes) == MAX_CORRECTED
