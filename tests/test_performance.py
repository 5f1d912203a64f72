"""The speed-ups keep results: int8 encoding stays close to float32, batched reading equals row-by-row reading,
fast metadata equals the pandas row, and FAISS batched search equals single queries."""

import faiss
import numpy as np
import pandas as pd
import pytest

from search.catalog import load_catalog, product_text
from search.encoder import Encoder
from search.errors import ModelLoadError
from search.index import IndexSpec, RowSelector, VectorIndex, _training_sample
from search.products import ProductTable, products_frame
from search.reader import ProductBatchSource, batch_loader, product_image
from search.synthetic import generate_rows


@pytest.fixture(scope="module")
def float32(tiny_model) -> Encoder:
    return Encoder.load(str(tiny_model))


def test_int8_encoder_quantises_linear_layers_and_stays_close(tiny_model, float32):
    int8 = Encoder.load(str(tiny_model), dtype="int8")
    assert int8.dtype == "int8"
    assert any("quantized" in type(module).__module__ for module in int8.model.modules())
    texts = ["red shirt", "black leather boots for men"]
    vectors = int8.encode_text(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert np.sum(vectors * float32.encode_text(texts), axis=1).min() > 0.95


def test_int8_is_refused_off_cpu(tiny_model):
    with pytest.raises(ModelLoadError, match="int8 is for CPU"):
        Encoder.load(str(tiny_model), device="cuda", dtype="int8")


def test_batched_reader_equals_row_by_row_processing(catalog_dir, float32):
    table, _ = load_catalog(str(catalog_dir))
    rows = [3, 4, 5, 9, 200]
    source = ProductBatchSource(table, rows, float32.image_processor)
    numbers, pixels, texts, bad = source.__getitems__(list(range(len(rows))))
    assert numbers == rows and bad == 0
    for position, row in enumerate(rows):
        record = table[row]
        image, ok = product_image(record)
        expected = float32.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]
        assert ok and texts[position] == product_text(record)
        np.testing.assert_array_equal(pixels[position].numpy(), expected.numpy())


def test_loader_yields_whole_batches_in_row_order(catalog_dir, float32):
    table, _ = load_catalog(str(catalog_dir))
    batches = list(batch_loader(table, range(40), float32.image_processor, 16, 0, pin_memory=False))
    assert [len(batch[0]) for batch in batches] == [16, 16, 8]
    assert [row for batch in batches for row in batch[0]] == list(range(40))
    assert batches[0][1].shape[0] == 16


def test_fast_metadata_equals_the_pandas_row():
    products = ProductTable(products_frame(generate_rows(300, seed=3)))
    for row in range(300):
        expected = products.frame.iloc[row].to_dict()
        expected["year"] = None if pd.isna(expected["year"]) else int(expected["year"])
        expected["id"] = int(expected["id"])
        got = products.metadata(row)
        assert got == expected
        assert [type(value) for value in got.values()] == [type(value) for value in expected.values()]


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
    assert index.spec.params == {"nlist": 32, "nprobe": 8}
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
    np.testing.assert_allclose(index.vectors(np.array([5, 6])), vectors[[5, 6]], atol=0.02)


def test_ivf_trains_on_an_evenly_spaced_sample_of_a_large_catalog():
    vectors = np.arange(200_000 * 4, dtype=np.float32).reshape(200_000, 4)
    sample = _training_sample(vectors, nlist=2048)
    assert len(sample) == 2048 * 64
    rows = sample[:, 0] // 4
    assert rows[0] == 0 and rows[-1] == len(vectors) - 1 and (np.diff(rows) > 0).all()
    assert len(_training_sample(vectors[:1000], nlist=16)) == 1000
