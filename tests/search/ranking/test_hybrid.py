"""Hybrid search: endpoints equal the pure searches, scores are monotone in each component, the fused top-k is
the brute-force top-k of the normalised mix, and filters are exact; on texts searched as typed (`plain_engine`: the
query reader's ranking is tested in tests/search/test_ranker.py)."""

import numpy as np
import pytest

from search.errors import InvalidQueryError
from search.ranking.hybrid import CANDIDATES, DEFAULT_SEMANTIC_WEIGHT, Candidates, fuse, keyword_share

QUERIES = ("blue cotton shirt for men", "Nike Women Red", "leather boots", "watches")


def same_response(a, b) -> None:
    assert a.ids == b.ids
    np.testing.assert_allclose([r.score for r in a], [r.score for r in b], rtol=1e-6)


@pytest.mark.parametrize("query", QUERIES)
def test_endpoints_equal_the_pure_searches(plain_engine, query):
    filters = {"gender": ["Men", "Women"]}
    dense, pure = (
        plain_engine.search_vector(plain_engine.embed_text(query)[0], k=12),
        plain_engine.search_text(query, 12, None, 1.0),
    )
    assert pure.ids == dense.ids
    np.testing.assert_allclose([r.score for r in pure], [r.score for r in dense], atol=1e-6)
    default = plain_engine.search_text(query, k=12)
    same_response(default, plain_engine.search_text(query, k=12, semantic_weight=DEFAULT_SEMANTIC_WEIGHT))
    same_response(plain_engine.search_text(query, k=12, semantic_weight=0.0), plain_engine.search_keyword(query, k=12))
    same_response(
        plain_engine.search_text(query, k=12, filters=filters, semantic_weight=0.0),
        plain_engine.search_keyword(query, k=12, filters=filters),
    )


def test_composed_endpoints(plain_engine):
    image = plain_engine.product_image(int(plain_engine.products.ids[5]))
    plain = plain_engine.search_composed(image, "red", 0.4, k=10, semantic_weight=DEFAULT_SEMANTIC_WEIGHT)
    same_response(plain_engine.search_composed(image, "red", 0.4, k=10), plain)
    same_response(
        plain_engine.search_composed(image, "red", 1.0, k=10, semantic_weight=0.0),
        plain_engine.search_image(image, k=10),
    )
    same_response(
        plain_engine.search_composed(image, "red", 0.0, k=10, semantic_weight=0.0),
        plain_engine.search_keyword("red", k=10),
    )


def brute_force_hybrid(plain_engine, vector, text, keyword_weight, k, allowed=None):
    """The fused ranking recomputed from scratch: full dense and BM25 scores, candidates, normalisation, mix."""
    count = len(plain_engine.products)
    allowed = np.ones(count, dtype=bool) if allowed is None else allowed
    dense = plain_engine.index.vectors(np.arange(count)) @ vector
    keyword = plain_engine.keyword.scores(text).astype(np.float64)
    rows = np.flatnonzero(allowed)
    by_dense = rows[np.argsort(-dense[rows], kind="stable")][: CANDIDATES + 1]
    matching = rows[keyword[rows] > 0]
    by_keyword = matching[np.argsort(-keyword[matching], kind="stable")][: CANDIDATES + 1]
    candidates = np.union1d(by_dense, by_keyword)
    semantic, lexical = dense[candidates].astype(np.float64), keyword[candidates]
    semantic = (semantic - semantic.min()) / (semantic.max() - semantic.min())
    lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
    fused = (1 - keyword_weight) * semantic + keyword_weight * lexical
    order = sorted(range(len(candidates)), key=lambda i: (-fused[i], -dense[candidates[i]], candidates[i]))[:k]
    return [int(plain_engine.products.ids[candidates[i]]) for i in order], fused[order]


@pytest.mark.parametrize("semantic_weight", [0.2, 0.5, 0.8])
def test_hybrid_equals_the_brute_force_mix(plain_engine, semantic_weight):
    for query in QUERIES:
        response = plain_engine.search_text(query, k=15, semantic_weight=semantic_weight)
        vector, _ = plain_engine.embed_text(query)
        ids, scores = brute_force_hybrid(plain_engine, vector, query, 1 - semantic_weight, 15)
        assert response.ids == ids
        np.testing.assert_allclose([r.score for r in response], scores, rtol=1e-5)


def test_filtered_hybrid_is_exact(plain_engine):
    frame = plain_engine.products.frame
    filters = {"masterCategory": "Footwear", "gender": ["Men", "Unisex"]}
    allowed = ((frame.masterCategory == "Footwear") & frame.gender.isin(["Men", "Unisex"])).to_numpy()
    query = "black leather boots"
    response = plain_engine.search_text(query, k=10, filters=filters, semantic_weight=0.5)
    assert len(response) == min(10, allowed.sum())
    assert all(
        r.metadata["masterCategory"] == "Footwear" and r.metadata["gender"] in {"Men", "Unisex"} for r in response
    )
    vector, _ = plain_engine.embed_text(query)
    ids, _ = brute_force_hybrid(plain_engine, vector, query, 0.5, 10, allowed)
    assert response.ids == ids


def test_composed_hybrid_gives_the_keyword_its_share_of_the_text_part(plain_engine):
    image = plain_engine.product_image(int(plain_engine.products.ids[9]))
    image_vector = plain_engine.embed_image(image)
    text_vector, _ = plain_engine.embed_text("red")
    mixed = 0.6 * image_vector + 0.4 * text_vector
    mixed /= np.linalg.norm(mixed)
    response = plain_engine.search_composed(image, "red", 0.6, k=10, semantic_weight=0.5)
    ids, _ = brute_force_hybrid(plain_engine, mixed, "red", keyword_share(0.5, 0.6), 10)
    assert keyword_share(0.5, 0.6) == pytest.approx(0.2)
    assert response.ids == ids


@pytest.mark.parametrize("method", ["minmax", "rrf"])
def test_fused_scores_are_monotone_in_each_component(plain_engine, method):
    vector, _ = plain_engine.embed_text("blue shirt")
    candidates = plain_engine.ranker.hybrid.candidates(vector[None, :], ["blue shirt"])[0]
    for keyword_weight in (0.0, 0.3, 0.7, 1.0):
        fused = fuse(candidates.semantic, candidates.keyword, keyword_weight, method)
        dominates = (candidates.semantic[:, None] >= candidates.semantic[None, :]) & (
            candidates.keyword[:, None] >= candidates.keyword[None, :]
        )
        assert np.all((fused[:, None] >= fused[None, :] - 1e-12)[dominates])
    # Raising one product's keyword (or semantic) score, all else equal, raises its fused score.
    for component in ("semantic", "keyword"):
        scores = {"semantic": candidates.semantic.copy(), "keyword": candidates.keyword.copy()}
        row = int(np.argmin(scores[component]))
        before = fuse(scores["semantic"], scores["keyword"], 0.5, method)[row]
        scores[component][row] = scores[component].max()
        after = fuse(scores["semantic"], scores["keyword"], 0.5, method)[row]
        assert after > before, component


def test_fusion_weights_zero_and_one_give_the_component_rankings(plain_engine):
    vector, _ = plain_engine.embed_text("navy blue jeans")
    candidates = plain_engine.ranker.hybrid.candidates(vector[None, :], ["navy blue jeans"])[0]
    dense_top = np.sort(plain_engine.index.vectors(np.arange(len(plain_engine.products))) @ vector)[::-1][:20]
    _, rows = candidates.rank(0.0, 20)
    np.testing.assert_allclose(candidates.semantic[np.searchsorted(candidates.rows, rows)], dense_top, rtol=1e-5)
    keyword_top = np.sort(plain_engine.keyword.scores("navy blue jeans"))[::-1][:20]
    _, rows = candidates.rank(1.0, 20)
    np.testing.assert_allclose(candidates.keyword[np.searchsorted(candidates.rows, rows)], keyword_top, rtol=1e-6)


def test_degenerate_candidates():
    single = Candidates(np.array([7]), np.array([0.3]), np.array([0.0]))
    scores, rows = single.rank(0.5, 5)
    assert rows.tolist() == [7] and scores.tolist() == [0.0]
    no_keyword = Candidates(np.array([1, 2, 3]), np.array([0.1, 0.3, 0.2]), np.zeros(3))
    assert no_keyword.rank(0.9, 3)[1].tolist() == [2, 3, 1]
    with pytest.raises(ValueError, match="Unknown fusion method"):
        no_keyword.rank(0.5, 3, method="borda")


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), "heavy", [0.5]])
def test_bad_semantic_weights_are_refused(plain_engine, weight):
    with pytest.raises(InvalidQueryError, match="semantic_weight must be"):
        plain_engine.search_text("red", semantic_weight=weight)
