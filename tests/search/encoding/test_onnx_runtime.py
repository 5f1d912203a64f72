"""ONNX Runtime towers against PyTorch on the tiny random model: same vectors, same neighbours."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from search.encoding.onnx_files import IMAGE_FILE, OnnxExport
from search.encoding.onnx_runtime import OnnxTowers
from search.encoding.threads import THREADS_ENV
from search.errors import ModelLoadError
from search.fixtures.synthetic import generate_rows

TEXTS = [
    "red",
    "black leather boots for men",
    "a navy blue casual cotton shirt with round neck for the summer, " * 6,  # truncated at the model's limit
    "gold watch",
]


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def onnx_text(towers: OnnxTowers, encoder, texts: list[str]) -> np.ndarray:
    tokens = {name: tensor.numpy() for name, tensor in encoder.tokenize(texts).items()}
    return unit(towers.text_features(tokens))


def onnx_images(towers: OnnxTowers, encoder, images: list[Image.Image]) -> np.ndarray:
    return unit(towers.image_features(encoder.preprocess(images).numpy()))


@pytest.fixture(scope="module")
def towers(tiny_export) -> OnnxTowers:
    return OnnxTowers.load(tiny_export, threads=1)


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB") for row in generate_rows(60, seed=3)]


@pytest.mark.parametrize("texts", [TEXTS, TEXTS[:1], TEXTS[2:3]], ids=["batch", "one word", "truncated"])
def test_text_vectors_match_pytorch(towers, torch_encoder, texts):
    cosines = (onnx_text(towers, torch_encoder, texts) * torch_encoder.encode_text(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999


@pytest.mark.parametrize("count", [1, 7])
def test_image_vectors_match_pytorch(towers, torch_encoder, photos, count):
    images = photos[:count]
    cosines = (onnx_images(towers, torch_encoder, images) * torch_encoder.encode_images(images)).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_top10_neighbours_are_identical(towers, torch_encoder, photos):
    catalog, query_photos = photos[:50], photos[50:]
    queries = {
        "torch": np.vstack([torch_encoder.encode_text(TEXTS), torch_encoder.encode_images(query_photos)]),
        "onnx": np.vstack([onnx_text(towers, torch_encoder, TEXTS), onnx_images(towers, torch_encoder, query_photos)]),
    }
    documents = {"torch": torch_encoder.encode_images(catalog), "onnx": onnx_images(towers, torch_encoder, catalog)}
    top10 = {name: np.argsort(-(queries[name] @ documents[name].T), axis=1)[:, :10] for name in queries}
    np.testing.assert_array_equal(top10["onnx"], top10["torch"])


def test_sessions_use_the_thread_setting(tiny_export, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "1")
    default = OnnxTowers.load(tiny_export)
    explicit = OnnxTowers.load(tiny_export, threads=2)
    assert default.text.get_session_options().intra_op_num_threads == 1
    assert explicit.image.get_session_options().intra_op_num_threads == 2


def test_unreadable_graph_is_a_model_load_error(tiny_export, tmp_path):
    broken = tmp_path / "export"
    shutil.copytree(tiny_export.folder, broken)
    (broken / IMAGE_FILE).write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match="ONNX Runtime cannot open the export"):
        OnnxTowers.load(OnnxExport.open(broken))
