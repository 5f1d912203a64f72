"""The encoder loads real transformers checkpoints (local folder or Hub cache) and gives normalised vectors."""

import numpy as np
import pytest
from PIL import Image

from search.encoder import Encoder, resolve_model
from search.errors import ModelLoadError
from tests.helpers import put_in_hub_cache


@pytest.fixture(scope="module")
def encoder(tiny_model) -> Encoder:
    return Encoder.load(str(tiny_model))


def test_text_vectors_are_normalised_and_distinct(encoder):
    vectors = encoder.encode_text(["red shirt", "black leather boots for men", "red shirt"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], rtol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.999


def test_batched_text_equals_single(encoder):
    batch = encoder.encode_text(["red shirt", "a much longer description of blue denim jeans for women"])
    single = encoder.encode_text(["red shirt"])
    np.testing.assert_allclose(batch[0], single[0], atol=1e-5)


def test_image_vectors_are_normalised_and_depend_on_pixels(encoder):
    red, blue = Image.new("RGB", (60, 80), "red"), Image.new("RGB", (60, 80), "blue")
    vectors = encoder.encode_images([red, blue])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.9999


def test_dtype_override_keeps_results_close(tiny_model, encoder):
    bf16 = Encoder.load(str(tiny_model), dtype="bfloat16")
    assert bf16.dtype == "bfloat16"
    texts = ["red shirt", "blue jeans"]
    assert float(np.sum(bf16.encode_text(texts) * encoder.encode_text(texts), axis=1).min()) > 0.98


def test_truncates_long_text_to_model_maximum(encoder):
    long_text = "red " * 500
    assert encoder.count_tokens(long_text) > encoder.max_text_tokens
    assert encoder.tokenize([long_text])["input_ids"].shape[1] == encoder.max_text_tokens


def test_loads_hub_id_from_the_hub_cache_offline(tiny_model, hub_cache):
    commit = "c" * 40
    put_in_hub_cache(hub_cache, "model", "tester/tiny-clip", tiny_model, commit)
    ref = resolve_model("tester/tiny-clip")
    assert ref.revision == commit and ref.name == "tester/tiny-clip"
    assert Encoder.load("tester/tiny-clip").ref.revision == commit


def test_unknown_model_is_explained(hub_cache):
    with pytest.raises(ModelLoadError, match="Could not get model 'nobody/no-such-model'"):
        Encoder.load("nobody/no-such-model")


def test_folder_that_is_not_a_model_is_explained(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="Could not load model"):
        Encoder.load(str(tmp_path))


def test_unknown_dtype_is_refused(tiny_model):
    with pytest.raises(ModelLoadError, match="Unknown dtype 'int4'"):
        Encoder.load(str(tiny_model), dtype="int4")


def test_int8_encoder_quantises_linear_layers_and_stays_close(tiny_model, encoder):
    int8 = Encoder.load(str(tiny_model), dtype="int8")
    assert int8.dtype == "int8"
    assert any("quantized" in type(module).__module__ for module in int8.model.modules())
    texts = ["red shirt", "black leather boots for men"]
    vectors = int8.encode_text(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert np.sum(vectors * encoder.encode_text(texts), axis=1).min() > 0.95


def test_int8_is_refused_off_cpu(tiny_model):
    with pytest.raises(ModelLoadError, match="int8 is for CPU"):
        Encoder.load(str(tiny_model), device="cuda", dtype="int8")
