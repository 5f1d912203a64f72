"""The encoder loads real transformers checkpoints (local folder or Hub cache) and gives normalised vectors."""

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from search.encoding.encoder import RUNTIME_ENV, Encoder, choose_runtime, resolve_model
from search.encoding.onnx_runtime import OnnxTowers
from search.errors import ModelLoadError
from search.fixtures.random_model import save_random_clip
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
    assert int8.dtype == "int8" and int8.runtime == "torch"
    assert any("quantized" in type(module).__module__ for module in int8.towers.model.modules())
    texts = ["red shirt", "black leather boots for men"]
    vectors = int8.encode_text(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert np.sum(vectors * encoder.encode_text(texts), axis=1).min() > 0.95


def test_int8_is_refused_off_cpu(tiny_model):
    with pytest.raises(ModelLoadError, match="int8 is for CPU"):
        Encoder.load(str(tiny_model), device="cuda", dtype="int8")


def test_cpu_float32_runs_on_onnx_runtime_and_the_rest_on_pytorch(encoder, monkeypatch):
    monkeypatch.delenv(RUNTIME_ENV, raising=False)
    assert encoder.runtime == "onnx" and isinstance(encoder.towers, OnnxTowers)
    assert choose_runtime(None, "cpu", "float32") == "onnx"
    assert choose_runtime(None, "cpu", "bfloat16") == choose_runtime(None, "cuda", "float16") == "torch"
    assert choose_runtime(None, "cpu", "int8") == "torch"


def test_runtime_follows_the_environment_and_the_argument(tiny_model, monkeypatch):
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    assert Encoder.load(str(tiny_model)).runtime == "torch"
    assert Encoder.load(str(tiny_model), runtime="onnx").runtime == "onnx"


def test_bad_runtime_requests_are_explained(tiny_model, monkeypatch):
    with pytest.raises(ModelLoadError, match="Unknown runtime 'tensorrt'; choose one of auto, onnx, torch"):
        Encoder.load(str(tiny_model), runtime="tensorrt")
    with pytest.raises(ModelLoadError, match="ONNX runtime encodes in float32 on the CPU; for bfloat16"):
        Encoder.load(str(tiny_model), dtype="bfloat16", runtime="onnx")
    monkeypatch.setenv(RUNTIME_ENV, "fast")
    with pytest.raises(ModelLoadError, match=f"Unknown {RUNTIME_ENV} 'fast'"):
        Encoder.load(str(tiny_model))


def test_a_given_export_of_the_same_snapshot_needs_no_pytorch_weights(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    export = Encoder.load(str(model), runtime="onnx").towers.export
    reference = Encoder.load(str(model), runtime="torch").encode_text(["red shirt"])
    for weights in model.glob("*.safetensors"):
        weights.unlink()
    encoder = Encoder.load(str(model), runtime="onnx", onnx_export=export)
    assert encoder.towers.export.folder == export.folder
    assert float(encoder.encode_text(["red shirt"])[0] @ reference[0]) >= 0.9999
    with pytest.raises(ModelLoadError, match="Could not load model"):
        Encoder.load(str(model), runtime="torch")


def test_export_of_another_model_is_not_used(tiny_model, tiny_export, tmp_path):
    other = save_random_clip("clip-tiny", tmp_path / "other", seed=1)
    encoder = Encoder.load(str(other), runtime="onnx", onnx_export=tiny_export)
    assert encoder.towers.export.folder != tiny_export.folder
    assert encoder.towers.export.matches(str(other), None)


def test_both_runtimes_know_the_models_temperature_and_only_torch_holds_the_model(onnx_encoder, torch_encoder):
    assert onnx_encoder.logit_scale == pytest.approx(torch_encoder.logit_scale) and onnx_encoder.logit_scale > 1
    assert isinstance(torch_encoder.model, torch.nn.Module)
    with pytest.raises(ModelLoadError, match="holds no PyTorch model; load it with runtime='torch'"):
        assert onnx_encoder.model is None
