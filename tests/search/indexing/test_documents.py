"""Build stage 4: document vectors are the encoded shards mixed and the reused vectors copied, zero where a product
has none, memory-mapped."""

import numpy as np

from search.encoding.vectors import mix
from search.indexing.documents import document_vectors
from search.indexing.shards import ShardCache
from search.ranking.index import IndexSpec, VectorIndex


def unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 4)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_encoded_rows_are_mixed_and_reused_rows_copied_from_the_previous_index(tmp_path):
    encoded = np.array([1, 4, 5, 9])
    cache = ShardCache(tmp_path, {"test": 1}, encoded, shard_size=3)
    image, text = unit(4, 0), unit(4, 1)
    for shard in range(cache.num_shards):
        part = slice(shard * 3, shard * 3 + 3)
        cache.write(shard, image[part], text[part], {})
    previous = VectorIndex.build(unit(20, 2), IndexSpec(type="flat"))
    reused_here, reused_there = np.array([0, 2, 3, 6, 7, 8]), np.array([19, 3, 4, 0, 1, 2])
    documents = document_vectors(
        tmp_path / "documents.npy", 10, 4, cache, 0.75, [5], (reused_here, reused_there, previous)
    )
    assert isinstance(documents, np.memmap) and documents.shape == (10, 4) and documents.dtype == np.float32
    expected = np.zeros((10, 4), np.float32)
    expected[encoded] = mix(image, text, 0.75)
    expected[reused_here] = previous.vectors(reused_there)
    expected[5] = 0.0
    np.testing.assert_allclose(documents, expected, rtol=1e-6)
