"""Matching a read query: each term satisfied by the product's words or its labels, every term needed, and the
attributes it carries counted; checked against the products table itself."""

import numpy as np

from search.ranking.matching import ATTRIBUTES_TIER, MATCHED_TIER, Term


def test_terms_are_satisfied_by_words_or_labels(engine):
    frame = engine.products.frame
    matcher = engine.ranker.matcher
    red = matcher.satisfied(Term("red", field="baseColour", values=("Red",)))
    assert np.array_equal(red, (frame.baseColour == "Red").to_numpy())
    token = engine.keyword.query_tokens("leather")[0]
    leather = matcher.satisfied(Term("leather", (token,)))
    assert np.array_equal(leather, frame.productDisplayName.str.contains("Leather").to_numpy())
    nike = matcher.satisfied(Term("nike", (engine.keyword.query_tokens("nike")[0],), "brand", ("Nike",)))
    assert np.array_equal(nike, frame.productDisplayName.str.startswith("Nike ").to_numpy())


def test_a_product_matches_when_it_satisfies_every_term(engine):
    frame = engine.products.frame
    reading = engine.reader.read("red leather jeans")
    match = engine.ranker.match(reading.terms)
    expected = (
        (frame.baseColour == "Red") & frame.productDisplayName.str.contains("Leather") & (frame.articleType == "Jeans")
    )
    assert np.array_equal(match.matched, expected.to_numpy())
    carried = (frame.baseColour == "Red").astype(int) + (frame.articleType == "Jeans").astype(int)
    assert np.array_equal(match.attributes, carried.to_numpy()) and match.num_attributes == 2


def test_an_unknown_word_or_no_word_matches_nothing(engine):
    for text in ("red zzqx jeans", "for the"):
        match = engine.ranker.match(engine.reader.read(text).terms)
        assert not match.matched.any()


def test_the_attribute_tier_is_for_queries_nothing_can_match(engine):
    frame = engine.products.frame
    red_jeans = ((frame.baseColour == "Red") & (frame.articleType == "Jeans")).to_numpy()
    unknown = engine.ranker.match(engine.reader.read("red zzqx jeans").terms)
    assert not unknown.complete
    assert np.array_equal(unknown.tiers() == ATTRIBUTES_TIER, red_jeans)
    known = engine.ranker.match(engine.reader.read("red leather jeans").terms)
    assert known.complete and not (known.tiers() == ATTRIBUTES_TIER).any()
    assert np.array_equal(known.tiers() == MATCHED_TIER, known.matched)


def test_a_repeated_word_counts_once_per_mention(engine):
    once = engine.ranker.match(engine.reader.read("red jeans").terms)
    twice = engine.ranker.match(engine.reader.read("red red jeans").terms)
    assert np.array_equal(once.matched, twice.matched)
    assert twice.num_attributes == 3 and np.array_equal(twice.carrying(), once.carrying())
