"""FAISS search equals NumPy brute force, with and without filters, for every index type."""

import numpy as np
import pytest

from search.encoder import normalise
from search.index import IndexSpec, RowSelector, VectorIndex


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32))
    return normalise(centres[rng.integers(0, 20, 3000)] + 0.3 * rng.normal(size=(3000, 32)))


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    scores = vectors @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    order = np.argsort(-scores, kind="stable")[:k]
    return order[np.isfinite(scores[order])]


def test_flat_top_k_equals_brute_force(vectors):
    index = VectorIndex.build(vectors, IndexSpec.for_catalog(len(vectors)))
    assert index.spec.type == "flat"
    queries = vectors[:25] + 0.01
    scores, rows = index.search(normalise(queries), 10)
    for query, found, found_scores in zip(normalise(queries), rows, scores, strict=True):
        expected = brute_force(vectors, query, 10)
        np.testing.assert_allclose(found_scores, (vectors @ query)[expected], rtol=1e-5, atol=1e-6)
        assert set(found) == set(expected)


def test_filtered_flat_search_is_exact_top_k_of_subset(vectors):
    index = VectorIndex.build(vectors, IndexSpec(type="flat"))
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::13] = True
    selector = RowSelector(allowed)
    query = vectors[5]
    _scores, rows = index.search(query, 20, selector.selector)
    assert len(rows[0]) == 20 and (rows[0] >= 0).all()
    assert allowed[rows[0]].all()
    assert list(rows[0]) == list(brute_force(vectors, query, 20, allowed))


@pytest.mark.parametrize(("index_type", "min_recall"), [("hnsw", 0.9), ("ivfpq", 0.5)])
def test_approximate_indexes_respect_filters_and_recall(vectors, index_type, min_recall):
    spec = IndexSpec.for_catalog(len(vectors), index_type, nlist=16, m=16, nbits=6, nprobe=16)
    index = VectorIndex.build(vectors, spec)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::3] = True
    selector = RowSelector(allowed)
    recalls = []
    for query in vectors[:20]:
        _, rows = index.search(query, 10, selector.selector)
        found = rows[0][rows[0] >= 0]
        assert allowed[found].all()
        recalls.append(len(set(found) & set(brute_force(vectors, query, 10, allowed))) / 10)
    assert np.mean(recalls) >= min_recall


def test_index_round_trips_through_a_file(vectors, tmp_path):
    index = VectorIndex.build(vectors, IndexSpec(type="flat"))
    index.save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", IndexSpec(type="flat"))
    np.testing.assert_array_equal(loaded.vectors(np.array([0, 7])), vectors[[0, 7]])


def test_unknown_index_type_is_refused():
    with pytest.raises(ValueError, match="Unknown index type 'annoy'"):
        IndexSpec.for_catalog(10, "annoy")


def test_auto_spec_switches_to_ivfsq8_for_large_catalogs():
    assert IndexSpec.for_catalog(1_000_000).type == "ivfsq8"
    assert IndexSpec.for_catalog(44_000).type == "flat"
