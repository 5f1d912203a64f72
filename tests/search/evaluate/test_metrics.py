"""Metric functions against hand-computed examples, ties, empty relevance and an exhaustive tie check."""

import itertools
import math

import numpy as np
import pytest

from search.evaluate.metrics import (
    average_precision_at_k,
    mean_metrics,
    ndcg_at_k,
    precision_at_k,
    query_metrics,
    recall_at_k,
    reciprocal_rank,
)

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b", "e", "z"}  # z is relevant but never retrieved


def test_hand_computed_example():
    assert precision_at_k(RANKED, RELEVANT, 1) == 0.0
    assert precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert precision_at_k(RANKED, RELEVANT, 10) == pytest.approx(2 / 10)  # missing positions are misses
    assert recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert reciprocal_rank(RANKED, RELEVANT) == pytest.approx(1 / 2)
    assert reciprocal_rank(RANKED, RELEVANT, k=1) == 0.0
    # (P@2 + P@5) / min(3 relevant, k=5) = (1/2 + 2/5) / 3
    assert average_precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(0.3)
    # DCG = 1/log2(3) + 1/log2(6); ideal with 3 relevant = 1 + 1/log2(3) + 1/2
    expected = (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(expected)


def test_perfect_and_empty_rankings():
    perfect = query_metrics(["x", "y"], {"x", "y"})
    assert perfect["R@1"] == 0.5 and perfect["R@5"] == 1.0 and perfect["P@1"] == 1.0
    assert perfect["MRR"] == 1.0 and perfect["mAP@10"] == 1.0 and perfect["nDCG@10"] == pytest.approx(1.0)
    nothing_found = query_metrics([], {"x"})
    assert all(value == 0.0 for value in nothing_found.values())


def test_queries_without_relevant_items_are_undefined_and_skipped_in_means():
    undefined = query_metrics(["a", "b"], set())
    assert undefined["P@1"] == 0.0 and undefined["P@10"] == 0.0
    assert all(math.isnan(undefined[name]) for name in ("R@1", "R@50", "MRR", "mAP@10", "nDCG@10"))
    defined = query_metrics(["a", "b"], {"b"})
    means = mean_metrics([undefined, defined])
    assert means["R@1"] == 0.0 and means["MRR"] == 0.5  # only the defined query counts
    assert means["P@1"] == 0.0 and means["P@10"] == pytest.approx(0.05)  # precision counts both
    assert means["AvgRecall"] == pytest.approx((means["R@1"] + means["R@10"]) / 2)
    assert means["AvgP"] == pytest.approx((means["P@1"] + means["P@10"]) / 2)


def test_ties_are_averaged_over_their_orders_by_hand():
    ranked, relevant, scores = [1, 2, 3, 4], {2, 4}, [0.9, 0.5, 0.5, 0.1]
    # Orders 1,2,3,4 and 1,3,2,4 are equally likely.
    assert reciprocal_rank(ranked, relevant, scores=scores) == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert average_precision_at_k(ranked, relevant, 10, scores) == pytest.approx(
        ((1 / 2 + 2 / 4) + (1 / 3 + 2 / 4)) / 4
    )
    assert precision_at_k(ranked, relevant, 2, scores) == pytest.approx(0.25)
    assert recall_at_k(ranked, relevant, 2, scores) == pytest.approx(0.25)
    # Without scores the list order is strict.
    assert reciprocal_rank(ranked, relevant) == 0.5


def test_a_lucky_tie_break_gains_nothing():
    relevant, scores = {"r"}, [1.0, 1.0, 1.0]
    first = query_metrics(["r", "x", "y"], relevant, scores)
    last = query_metrics(["x", "y", "r"], relevant, scores)
    assert first == last
    assert first["P@1"] == pytest.approx(1 / 3) and first["MRR"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)


def strict_metrics_averaged_over_tie_orders(ranked, relevant, scores):
    groups = [list(g) for _, g in itertools.groupby(range(len(ranked)), key=lambda i: scores[i])]
    orders = itertools.product(*(itertools.permutations(g) for g in groups))
    totals, count = None, 0
    for order in orders:
        permuted = [ranked[i] for group in order for i in group]
        values = query_metrics(permuted, relevant)
        totals = values if totals is None else {k: totals[k] + values[k] for k in totals}
        count += 1
    return {k: v / count for k, v in totals.items()}


@pytest.mark.parametrize("seed", range(6))
def test_tie_aware_metrics_equal_the_mean_over_all_tie_orders(seed):
    rng = np.random.default_rng(seed)
    size = 8
    ranked = list(range(size))
    scores = sorted(rng.integers(0, 5, size).astype(float).tolist(), reverse=True)
    relevant = set(rng.choice(12, size=4, replace=False).tolist())
    expected = strict_metrics_averaged_over_tie_orders(ranked, relevant, scores)
    actual = query_metrics(ranked, relevant, scores)
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value), name


def test_scores_must_match_the_ranking():
    with pytest.raises(ValueError, match="Got 1 scores for 2 ranked items"):
        recall_at_k(["a", "b"], {"a"}, 1, scores=[1.0])
