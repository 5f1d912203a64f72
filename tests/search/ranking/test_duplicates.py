"""Near-identical results grouped in rank order: identical vectors fold into the best-ranked one."""

import numpy as np
import pytest

from search.ranking.duplicates import DEFAULT_THRESHOLD, Group, group_near_identical


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_identical_vectors_fold_into_the_best_ranked_one():
    a, b, c = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)
    groups = group_near_identical(np.stack([a, b, a, c, b, a]))
    assert groups == [Group(0, (2, 5)), Group(1, (4,)), Group(3, ())]


def test_distinct_vectors_stay_apart_and_keep_their_order():
    vectors = np.stack([unit(1, 0.1 * i, 0) for i in range(5)])
    assert [g.leader for g in group_near_identical(vectors)] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("angle", "together"), [(0.01, True), (0.1, False)])
def test_the_threshold_is_a_cosine(angle, together):
    vectors = np.stack([unit(1, 0), unit(np.cos(angle), np.sin(angle))])
    assert (np.cos(angle) >= DEFAULT_THRESHOLD) == together
    assert (len(group_near_identical(vectors)) == 1) == together


def test_a_result_joins_its_first_near_identical_leader_only():
    a = unit(1, 0)
    near = unit(1, 0.02)  # near-identical to a, not a leader itself
    groups = group_near_identical(np.stack([a, near, a]), threshold=0.999)
    assert groups == [Group(0, (1, 2))]


def test_no_results_no_groups():
    assert group_near_identical(np.zeros((0, 4))) == []


def test_a_limit_keeps_the_first_groups_exactly():
    rng = np.random.default_rng(0)
    distinct = rng.standard_normal((30, 8)).astype(np.float32)
    distinct /= np.linalg.norm(distinct, axis=1, keepdims=True)
    vectors = distinct[rng.integers(0, 30, 500)]
    everything = group_near_identical(vectors)
    assert group_near_identical(vectors, limit=7) == everything[:7]
    assert group_near_identical(vectors, limit=100) == everything


def test_results_with_the_same_name_fold_whatever_their_photos():
    a, b, c = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)
    names = ["Deni Yo Men Washed Blue Jeans", "Puma Shoes", "deni yo  men washed blue JEANS"]
    assert group_near_identical(np.stack([a, b, c]), names=names) == [Group(0, (2,)), Group(1, ())]


def test_products_without_a_name_never_fold_by_name():
    a, b = unit(1, 0), unit(0, 1)
    assert group_near_identical(np.stack([a, b]), names=["", ""]) == [Group(0, ()), Group(1, ())]


def test_a_name_joins_its_groups_leader_within_a_limit():
    a, b, c = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)
    names = ["Run", "Other", "Run", "Third"]
    assert group_near_identical(np.stack([a, b, c, c]), limit=2, names=names) == [Group(0, (2,)), Group(1, ())]


def test_with_the_trained_demo_model_the_threshold_folds_identical_photos_and_nothing_else(demo_engine):
    """The demo's real photos under its trained model: products photographed with the very same picture (9 groups)
    reach the threshold, and no two different pictures do (a random model crowds every photo near cosine 1 and
    cannot show this: docs/EVALUATION.md, "Near-identical results")."""
    rows = np.arange(demo_engine.num_products)
    photos = [demo_engine.product_photo_bytes(int(product)) for product in demo_engine.products.ids]
    same_picture = np.array([[a == b for b in photos] for a in photos]) & (rows[:, None] != rows[None, :])
    vectors = demo_engine.index.vectors(rows)
    cosines = vectors @ vectors.T
    np.fill_diagonal(cosines, -1.0)
    assert same_picture.any() and (cosines[same_picture] >= DEFAULT_THRESHOLD).all()
    assert (cosines[~same_picture] < DEFAULT_THRESHOLD).all()
