"""The ranking of a read query, recomputed from scratch: matching products first, then those carrying every
attribute it names, the attribute boost on the keyword side, the count of matching products within the filters,
and facets counted within the other filters."""

import numpy as np
import pytest

from search.ranking.hybrid import CANDIDATES
from search.ranking.matching import ATTRIBUTE_BOOST

QUERIES = ("red leather jeans", "nike tshirts", "blue jeans for my father", "sneakers", "watches women", "puma zzqx")


def keyword_side(engine, text):
    """The read query's keyword side, matching rows and tiers, from the products table and BM25 scores."""
    reading = engine.reader.read(text)
    frame = engine.products.frame
    scores = engine.keyword.scores(reading.searched).astype(np.float64)
    side = scores / scores.max() if scores.max() > 0 else scores
    attributes = [term for term in reading.terms if term.field is not None]
    matched = np.ones(len(frame), dtype=bool) if reading.terms else np.zeros(len(frame), dtype=bool)
    carried = np.zeros(len(frame))
    brands = np.array(engine.bundle.vocabulary.brand_labels())
    for term in reading.terms:
        column = brands if term.field == "brand" else frame[term.field].to_numpy() if term.field else None
        by_label = np.isin(column, term.values) if column is not None else np.zeros(len(frame), dtype=bool)
        by_words = np.ones(len(frame), dtype=bool) if term.tokens else np.zeros(len(frame), dtype=bool)
        for token in term.tokens:
            by_words &= engine.keyword.bm25.get_scores([token]) > 0
        matched &= by_label | by_words
        carried += by_label | (by_words if term.field else False)
    if attributes:
        side = side + ATTRIBUTE_BOOST * carried / len(attributes)
    unknown = any(not term.known for term in reading.terms)
    tiers = np.where(matched, 2, np.where(unknown and bool(attributes) & (carried == len(attributes)), 1, 0))
    return reading, side, matched, tiers


@pytest.mark.parametrize("text", QUERIES)
def test_keyword_only_ranks_matching_products_first_then_by_the_boosted_score(engine, text):
    _, side, matched, tiers = keyword_side(engine, text)
    response = engine.search_text(text, k=20, semantic_weight=0.0)
    rows = np.flatnonzero((side > 0) | (tiers > 0))
    order = sorted(rows, key=lambda row: (-tiers[row], -side[row], row))[:20]
    assert [r.row for r in response] == order
    assert [r.matched for r in response] == [bool(matched[row]) for row in order]
    np.testing.assert_allclose([r.score for r in response], side[order], rtol=1e-6)
    assert response.match_count == matched.sum() and response.semantic_weight == 0.0


@pytest.mark.parametrize("text", QUERIES)
def test_the_fused_ranking_puts_matching_products_first(engine, text):
    reading, side, _, tiers = keyword_side(engine, text)
    vector, _ = engine.embed_text(reading.searched)
    response = engine.search_text(text, k=15, semantic_weight=0.5)
    dense = engine.index.vectors(np.arange(len(engine.products))) @ vector
    by_dense = np.argsort(-dense, kind="stable")[: CANDIDATES + 1]
    key = side + tiers * (1 + side.max())
    by_keyword = np.flatnonzero(key > 0)
    by_keyword = by_keyword[np.lexsort((by_keyword, -key[by_keyword]))][: CANDIDATES + 1]
    candidates = np.union1d(by_dense, by_keyword)
    semantic = dense[candidates].astype(np.float64)
    semantic = (semantic - semantic.min()) / (semantic.max() - semantic.min())
    lexical = side[candidates] / side[candidates].max() if side[candidates].max() > 0 else side[candidates]
    fused = 0.5 * semantic + 0.5 * lexical
    order = sorted(
        range(len(candidates)),
        key=lambda i: (-tiers[candidates[i]], -fused[i], -dense[candidates[i]], candidates[i]),
    )[:15]
    assert [r.row for r in response] == candidates[order].tolist()
    np.testing.assert_allclose([r.score for r in response], fused[order], rtol=1e-5)


def test_meaning_alone_keeps_the_dense_order_and_still_counts(engine):
    _, _, matched, _ = keyword_side(engine, "red leather jeans")
    response = engine.search_text("red leather jeans", k=10, semantic_weight=1.0)
    vector, _ = engine.embed_text("red leather jeans")
    assert response.ids == engine.search_vector(vector, k=10).ids
    assert response.match_count == matched.sum()
    assert [r.matched for r in response] == [bool(matched[r.row]) for r in response]


def test_counts_and_facets_are_within_the_filters(engine):
    frame = engine.products.frame
    filters = {"gender": ["Women", "Girls"], "season": "Summer"}
    _, _, matched, _ = keyword_side(engine, "jeans")
    response = engine.search_text("jeans", k=5, filters=filters)
    allowed = (frame.gender.isin(["Women", "Girls"]) & (frame.season == "Summer")).to_numpy()
    assert response.match_count == (matched & allowed).sum() > 0
    other_than_gender = matched & (frame.season == "Summer").to_numpy()
    expected = frame[other_than_gender].gender.value_counts()
    assert response.facets["gender"] == tuple(sorted(expected.items(), key=lambda item: (-item[1], item[0])))
    colours = frame[matched & allowed].baseColour.value_counts()
    assert dict(response.facets["baseColour"]) == colours.to_dict()
    counts = [count for _, count in response.facets["baseColour"]]
    assert counts == sorted(counts, reverse=True)
    brands = dict(response.facets["brand"])
    assert sum(brands.values()) == response.match_count


def test_without_a_match_the_facets_count_the_candidates(engine):
    response = engine.search_text("zzqx", k=5, semantic_weight=0.0)
    assert response.results == () and response.match_count == 0
    response = engine.search_text("red zzqx", k=7)
    assert response.match_count == 0 and response.results and not any(r.matched for r in response)
    assert sum(count for _, count in response.facets["gender"]) >= len(response)
