"""FAISS search equals NumPy brute force, with and without filters, for every index type."""

import faiss
import numpy as np
import pytest

from search.encoding.vectors import normalise
from search.errors import BundleError
from search.ranking import index as index_module
from search.ranking.index import IndexSpec, RowSelector, VectorIndex, training_sample


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
    index.save(tmp_path)
    assert index.describe() == {"type": "flat", "metric": "inner_product", "params": {}, "rows_without_vectors": []}
    loaded = VectorIndex.load(tmp_path, index.describe())
    np.testing.assert_array_equal(loaded.vectors(np.array([0, 7])), vectors[[0, 7]])


def test_unknown_index_type_is_refused():
    with pytest.raises(ValueError, match="Unknown index type 'annoy'"):
        IndexSpec.for_catalog(10, "annoy")


def test_auto_spec_picks_flat_then_ivfsq8_then_reranked_ivfpq_by_catalog_size():
    assert IndexSpec.for_catalog(44_000).type == "flat"
    assert IndexSpec.for_catalog(1_000_000).type == "ivfsq8"
    large = IndexSpec.for_catalog(5_000_000, dim=512)
    assert large.type == "ivfpq"
    assert large.params == {"nlist": 1024, "m": 64, "nbits": 8, "nprobe": 32, "rerank": 200}


def test_ivfpq_codebooks_shrink_to_what_a_small_catalog_and_dimension_can_train():
    spec = IndexSpec.for_catalog(240, "ivfpq", dim=24)
    assert spec.params["nlist"] == 6 and spec.params["nbits"] == 2 and spec.params["m"] == 24
    assert IndexSpec.for_catalog(100_000, "ivfpq", dim=96).params["m"] == 48


def test_batched_flat_search_uses_blas_and_equals_single_queries():
    assert faiss.cvar.distance_compute_blas_threshold <= 32
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(vectors, IndexSpec(type="flat"))
    _, batched = index.search(vectors[:50], 10)
    for position in range(50):
        assert set(index.search(vectors[position], 10)[1][0]) == set(batched[position])


def test_ivfsq8_respects_filters_and_finds_the_near_neighbours():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 32))
    vectors = centres[rng.integers(0, 20, 4000)] + 0.3 * rng.standard_normal((4000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    spec = IndexSpec.for_catalog(len(vectors), "ivfsq8", nlist=32, nprobe=8)
    index = VectorIndex.build(vectors, spec)
    assert index.spec.params == {"nlist": 32, "nprobe": 8, "rerank": 50}
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::3] = True
    selector = RowSelector(allowed)
    recalls = []
    for query in vectors[:20]:
        rows = index.search(query, 10, selector.selector)[1][0]
        assert allowed[rows[rows >= 0]].all()
        exact = np.argsort(-np.where(allowed, vectors @ query, -np.inf))[:10]
        recalls.append(len(set(rows) & set(exact)) / 10)
    assert np.mean(recalls) >= 0.9
    np.testing.assert_array_equal(index.vectors(np.array([5, 6])), vectors[[5, 6]])


def test_ivf_trains_on_an_evenly_spaced_sample_of_a_large_catalog():
    vectors = np.arange(200_000 * 4, dtype=np.float32).reshape(200_000, 4)
    sample = training_sample(vectors, nlist=2048)
    assert len(sample) == 2048 * 64
    rows = sample[:, 0] // 4
    assert rows[0] == 0 and rows[-1] == len(vectors) - 1 and (np.diff(rows) > 0).all()
    assert len(training_sample(vectors[:1000], nlist=16)) == 1000


@pytest.mark.parametrize("index_type", ["flat", "hnsw", "ivfpq", "ivfsq8"])
def test_filtered_top_k_is_brute_force_over_the_filtered_rows_for_every_index_type(vectors, index_type):
    index = VectorIndex.build(vectors, IndexSpec.for_catalog(len(vectors), index_type, dim=vectors.shape[1]))
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[np.random.default_rng(3).choice(len(vectors), 700, replace=False)] = True
    queries = normalise(vectors[:15] + 0.05)
    for query, ranking in zip(queries, index.top_k(queries, 10, RowSelector(allowed)), strict=True):
        expected = brute_force(vectors, query, 10, allowed)
        assert ranking.rows.tolist() == expected.tolist()
        np.testing.assert_allclose(ranking.scores, vectors[expected] @ query, rtol=1e-5, atol=1e-6)


def test_ivf_candidates_are_reranked_by_their_exact_scores(vectors):
    spec = IndexSpec.for_catalog(len(vectors), "ivfpq", dim=vectors.shape[1], nlist=16, nprobe=16, rerank=3000)
    index = VectorIndex.build(vectors, spec)
    for query in normalise(vectors[20:30] + 0.05):
        scores, rows = index.search(query, 10)
        assert rows[0].tolist() == brute_force(vectors, query, 10).tolist()
        np.testing.assert_allclose(scores[0], vectors[rows[0]] @ query, rtol=1e-5, atol=1e-6)


def test_broad_filters_search_inside_an_approximate_index_and_rerank(vectors, monkeypatch):
    monkeypatch.setattr(index_module, "EXACT_FILTER_MAX_ROWS", 100)
    index = VectorIndex.build(vectors, IndexSpec.for_catalog(len(vectors), "ivfpq", dim=vectors.shape[1]))
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::2] = True
    recalls = []
    for query, ranking in zip(vectors[:20], index.top_k(vectors[:20], 10, RowSelector(allowed)), strict=True):
        assert len(ranking.rows) == 10 and allowed[ranking.rows].all()
        assert (np.diff(ranking.scores) <= 0).all()
        np.testing.assert_allclose(ranking.scores, vectors[ranking.rows] @ query, rtol=1e-5, atol=1e-6)
        recalls.append(len(set(ranking.rows) & set(brute_force(vectors, query, 10, allowed))) / 10)
    assert np.mean(recalls) >= 0.9


def test_ivf_index_round_trips_with_its_exact_vectors_and_refuses_others(vectors, tmp_path):
    index = VectorIndex.build(vectors, IndexSpec.for_catalog(len(vectors), "ivfsq8", nlist=16))
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, index.describe())
    assert isinstance(loaded.exact, np.memmap)
    np.testing.assert_array_equal(loaded.vectors(np.array([3, 1])), vectors[[3, 1]])
    np.save(tmp_path / "vectors.npy", vectors[:10])
    with pytest.raises(BundleError, match=r"holds float32 \(10, 32\); the index needs float32 \(3000, 32\)"):
        VectorIndex.load(tmp_path, index.describe())
    (tmp_path / "vectors.npy").unlink()
    with pytest.raises(BundleError, match="needs its exact vectors file"):
        VectorIndex.load(tmp_path, index.describe())


@pytest.mark.parametrize("index_type", ["flat", "hnsw", "ivfsq8"])
def test_rows_without_vectors_are_never_returned(vectors, index_type):
    """Rows whose product has no vector (stored as zeros) stay out of every dense search, filtered or not."""
    missing = (3, 40, 41, 2999)
    stored = vectors.copy()
    stored[list(missing)] = 0.0
    index = VectorIndex.build(stored, IndexSpec.for_catalog(len(stored), index_type), missing)
    assert index.has_vector(np.array([3, 4, 2999])).tolist() == [False, True, False]
    query = normalise(-vectors[:1])[0]  # far from everything: zeros would rank high
    everything = index.top_k(query[None, :], len(stored))[0].rows
    assert len(everything) == len(stored) - len(missing) and not set(missing) & set(everything.tolist())
    allowed = RowSelector(np.isin(np.arange(len(stored)), [3, 40, 5, 6]))
    assert sorted(index.top_k(query[None, :], 10, allowed)[0].rows.tolist()) == [5, 6]
    assert index.exact_top_k(query, 10, allowed).rows.tolist() in ([5, 6], [6, 5])


def test_rows_without_vectors_must_be_rows_of_the_index(vectors):
    with pytest.raises(BundleError, match="Rows without vectors must be rows of the index"):
        VectorIndex.build(vectors[:10], IndexSpec("flat"), (10,))


def test_single_flat_queries_scan_fp16_codes_and_return_exact_fp32_scores(vectors, monkeypatch):
    index = VectorIndex.build(vectors, IndexSpec(type="flat"))

    def no_fp32_scan(*args, **kwargs):
        raise AssertionError("a single query must scan the fp16 copy, not the fp32 vectors")

    monkeypatch.setattr(index.index, "search", no_fp32_scan)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::2] = True
    for k in (10, index_module.FLAT_SCAN_CANDIDATES + 36):
        for query in normalise(vectors[:20] + 0.05):
            for selector, mask in ((None, None), (RowSelector(allowed), allowed)):
                scores, rows = index.search(query, k, selector.selector if selector else None)
                expected = brute_force(vectors, query, k, mask)
                assert list(rows[0]) == list(expected)
                # Exact fp32 scores: fp16 codes alone are off by ~1e-3.
                np.testing.assert_allclose(scores[0], (vectors @ query)[expected], rtol=0, atol=1e-6)
