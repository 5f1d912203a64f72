"""The shopper-query protocol: queries of every kind made from the catalog, relevance from its labels, typos
the catalog does not know, and the before/after run through the engine's own search."""

import pytest

from search.catalog.products import ProductTable
from search.evaluate.shopper import (
    BALANCE_WEIGHTS,
    KINDS,
    MIN_RELEVANT,
    SETTINGS,
    balance,
    balance_table,
    compare,
    judge,
    run,
    shopper_queries,
    table,
)
from search.fixtures.synthetic import generate_rows
from search.understanding.spelling import correctable
from search.understanding.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def catalog():
    rows = generate_rows(2000, seed=7)
    return ProductTable.from_rows(rows).frame, Vocabulary.build(rows)


def test_every_kind_is_made_with_relevance_from_the_labels(catalog):
    frame, vocabulary = catalog
    queries = shopper_queries(frame, vocabulary, per_kind=30, seed=1)
    assert {query.kind for query in queries} == set(KINDS)
    assert all(len(query.relevant) >= MIN_RELEVANT for query in queries)
    colours = set(frame.baseColour.str.lower())
    checked = 0
    for query in queries:
        if query.kind == "attributes" and " for " in query.text and query.text.split()[0] in colours:
            checked += 1
            colour, *kind, _, gender = query.text.split()
            expected = frame[
                (frame.baseColour.str.lower() == colour)
                & (frame.articleType.str.lower() == " ".join(kind))
                & (frame.gender.str.lower() == gender)
            ].index
            assert query.relevant == frozenset(expected.tolist()), query.text
    assert checked
    assert shopper_queries(frame, vocabulary, per_kind=30, seed=1) == queries


def test_typos_are_words_the_catalog_does_not_know(catalog):
    frame, vocabulary = catalog
    misspelt = [query for query in shopper_queries(frame, vocabulary, 30, 2) if query.kind == "misspelt"]
    assert misspelt
    for query in misspelt:
        typed = set(query.text.split()) - set(query.correct_form.split())
        assert len(typed) == 1 and all(word not in vocabulary.words and correctable(word) for word in typed)


def test_synonyms_have_the_catalogs_words_as_correct_form(catalog):
    frame, vocabulary = catalog
    synonyms = [query for query in shopper_queries(frame, vocabulary, 30, 3) if query.kind == "synonym"]
    assert any(query.text.endswith("sneakers") and query.correct_form.endswith("casual shoes") for query in synonyms)


def test_the_run_judges_every_kind_before_and_after(engine):
    queries = shopper_queries(engine.products.frame, engine.bundle.vocabulary, per_kind=3, seed=0)
    rows = run(engine, queries)
    assert {(row["method"], row["stage"]) for row in rows} == {(s.method, s.stage) for s in SETTINGS}
    assert all(0.0 <= row["metrics"]["P@10"] <= 1.0 for row in rows)
    assert "keyword" in table(rows) and "→" in table(rows)


def test_the_balance_is_judged_at_each_weight_and_at_the_words_choice(engine):
    queries = shopper_queries(engine.products.frame, engine.bundle.vocabulary, per_kind=3, seed=0)
    rows = balance(engine, queries)
    assert [row["semantic_weight"] for row in rows] == [None, *BALANCE_WEIGHTS]
    natural = [query for query in queries if query.kind == "natural"]
    assert sum(rows[0]["weights_used"].values()) == len(natural) == rows[0]["queries"]
    keywords_only = [judge(engine, query.text, query.relevant, 0.0)["P@10"] for query in natural]
    assert rows[1]["metrics"]["P@10"] == pytest.approx(sum(keywords_only) / len(natural))
    assert "the words decide" in balance_table(rows)


def test_a_text_is_shown_before_after_and_by_meaning_alone(engine):
    rows = compare(engine, ["a gift for my father"])
    assert [row["stage"] for row in rows] == ["before", "after", "meaning alone"]
    assert rows[0]["match_count"] is None and rows[1]["match_count"] == 0 and rows[2]["semantic_weight"] == 1.0
    assert rows[1]["semantic_weight"] == engine.search_text("a gift for my father", k=1).semantic_weight
    assert all(sum(row["article_types"].values()) == 10 for row in rows)
