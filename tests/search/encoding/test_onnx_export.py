"""Exporting a model's towers to ONNX: cached by snapshot and versions, checked, refused when incomplete."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AlignConfig, AlignModel, SiglipConfig, SiglipModel

from search.encoding import onnx_export
from search.encoding.onnx_export import (
    adopt_export,
    cached_export,
    export_cache_dir,
    export_key,
    export_towers,
    library_versions,
)
from search.encoding.onnx_files import EXPORT_FORMAT, IMAGE_FILE, INFO_FILE, TEXT_FILE, OnnxExport
from search.encoding.onnx_runtime import OnnxTowers
from search.errors import ModelLoadError


def refuse_to_load():
    raise AssertionError("the model was loaded although its export is cached")


def test_export_records_its_source_and_the_text_inputs(tiny_export, tiny_model):
    assert tiny_export.matches(str(tiny_model), None)
    assert not tiny_export.matches(str(tiny_model), "v2")
    assert tiny_export.text_inputs == ["input_ids", "attention_mask"]
    assert tiny_export.info["versions"] == library_versions()
    assert tiny_export.info["family"] == "clip"
    assert tiny_export.text_path.is_file() and tiny_export.image_path.is_file()


def test_cached_export_is_reused_without_loading_the_model(tiny_export, tiny_model, torch_encoder):
    assert tiny_export.folder.parent == export_cache_dir()
    tokens = torch_encoder.tokenize(["any text", "more words here"])
    again = cached_export(str(tiny_model), None, tiny_model, refuse_to_load, tokens, torch.zeros(2, 3, 32, 32))
    assert again.folder == tiny_export.folder


def test_key_follows_the_model_content_and_library_versions_not_its_path(tiny_model, tmp_path, monkeypatch):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    key = export_key(model)
    assert export_key(tiny_model) == key, "a copy of the same model at another path"
    weights = next(model.glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1_000_000))
    assert export_key(model) == key, "touching the weights changes nothing"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert export_key(model) != key
    changed = export_key(model)
    monkeypatch.setattr(onnx_export, "library_versions", lambda: {**library_versions(), "torch": "99.0"})
    assert export_key(model) != changed


def test_one_model_is_exported_once_whatever_path_names_it(tiny_export, tiny_model, torch_encoder, monkeypatch):
    monkeypatch.chdir(tiny_model.parent)
    tokens = torch_encoder.tokenize(["any text", "more words here"])
    relative = cached_export(tiny_model.name, None, Path(tiny_model.name), refuse_to_load, tokens, torch.zeros(2))
    assert relative.folder == tiny_export.folder
    assert relative.matches(tiny_model.name, None), "described as exported from the name it was asked for"


def test_a_hub_snapshot_is_keyed_by_its_blob_names_without_reading_them(tiny_model, tmp_path):
    """A snapshot's files link to blobs named by their SHA-256; the blob holds other bytes here, so an equal key
    shows that the name was used and the (large) file was not read."""
    snapshot, blobs = tmp_path / "snapshots" / "abc", tmp_path / "blobs"
    snapshot.mkdir(parents=True)
    blobs.mkdir()
    for path in tiny_model.iterdir():
        blob = blobs / hashlib.sha256(path.read_bytes()).hexdigest()
        blob.write_bytes(b"not read" if path.suffix == ".safetensors" else path.read_bytes())
        (snapshot / path.name).symlink_to(blob)
    assert export_key(snapshot) == export_key(tiny_model)


def exporter_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.split(".")[0] in ("onnx_ir", "onnxscript", "torch")]


def test_the_exporter_speaks_when_debug_is_asked_for(tmp_path, caplog):
    model, tokens = tiny_siglip()
    tokens, pixels = {k: v[:2] for k, v in tokens.items()}, torch.randn(2, 3, 32, 32)
    with caplog.at_level(logging.DEBUG):
        export_towers(model.eval(), tokens, pixels, tmp_path / "export", "tiny", None)
    assert exporter_records(caplog)
    assert logging.getLogger("onnx_ir").level == logging.NOTSET, "the exporter's own levels are restored"


def test_a_shipped_export_is_adopted_into_the_cache_once(tiny_export, tiny_model, tmp_path, monkeypatch):
    model = Path(shutil.copytree(tiny_model, tmp_path / "shipped-model"))
    shutil.copytree(tiny_export.folder, model / "onnx")
    cache = tmp_path / "cache"
    assert adopt_export(model / "onnx", model, cache)
    adopted = OnnxExport.open(cache / export_key(model))
    assert adopted.text_path.read_bytes() == tiny_export.text_path.read_bytes()
    assert adopt_export(model / "onnx", model, cache), "already there: nothing to do"
    monkeypatch.setattr(onnx_export, "library_versions", lambda: {**library_versions(), "onnx": "0.1"})
    assert not adopt_export(model / "onnx", model, tmp_path / "other-cache"), "made by other exporter versions"
    assert not (tmp_path / "other-cache" / export_key(model)).exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / IMAGE_FILE).unlink(), "lacks image.onnx"),
        (lambda folder: (folder / INFO_FILE).unlink(), "is not an ONNX export"),
        (lambda folder: (folder / INFO_FILE).write_text(json.dumps({"format": 99})), "not an ONNX export of format"),
        (lambda folder: (folder / INFO_FILE).write_text(json.dumps({"format": EXPORT_FORMAT})), "lists no text input"),
    ],
    ids=["missing tower", "missing info", "unknown format", "no inputs"],
)
def test_incomplete_or_foreign_exports_are_refused(tiny_export, tmp_path, damage, message):
    folder = tmp_path / "export"
    shutil.copytree(tiny_export.folder, folder)
    damage(folder)
    with pytest.raises(ModelLoadError, match=message):
        OnnxExport.open(folder)


def tiny_siglip() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """SigLIP reads fixed-length token ids only (no attention mask)."""
    text = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = SiglipConfig(
        text_config={**text, "vocab_size": 100, "max_position_embeddings": 16},
        vision_config={**text, "image_size": 32, "patch_size": 8},
    )
    return SiglipModel(config), {"input_ids": torch.randint(0, 100, (3, 16))}


def tiny_align() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """ALIGN: a BERT text tower (ids, mask, token types) and an EfficientNet image tower. Its default
    initialisation makes a tiny EfficientNet's output ~1e-30, so the image tower gets visible random weights."""
    config = AlignConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2},
        vision_config={"image_size": 32, "width_coefficient": 0.1, "depth_coefficient": 0.1, "hidden_dim": 32},
        projection_dim=32,
    )
    model = AlignModel(config)
    with torch.no_grad():
        for parameter in model.vision_model.parameters():
            parameter.normal_(0.0, 0.2)
    ids = torch.randint(0, 100, (3, 9))
    mask = torch.ones_like(ids)
    mask[0, 5:] = 0
    return model, {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


@pytest.mark.parametrize("make", [tiny_siglip, tiny_align], ids=["siglip", "align"])
def test_other_clip_families_export_and_match_pytorch(make, tmp_path, caplog):
    torch.manual_seed(0)
    model, tokens = make()
    model.eval()
    pixels = torch.randn(2, 3, 32, 32)
    with caplog.at_level(logging.INFO):
        export = export_towers(model, {k: v[:2] for k, v in tokens.items()}, pixels, tmp_path / "export", "tiny", None)
    assert not exporter_records(caplog), "the exporter's INFO lines are muted by default"
    assert export.text_inputs == list(tokens)
    towers = OnnxTowers.load(export, threads=1)
    more_pixels = torch.randn(5, 3, 32, 32)
    with torch.inference_mode():
        expected_text = model.get_text_features(**tokens).pooler_output.numpy()
        expected_image = model.get_image_features(pixel_values=more_pixels).pooler_output.numpy()
    got_text = towers.text_features({name: tensor.numpy() for name, tensor in tokens.items()})
    got_image = towers.image_features(more_pixels.numpy())
    for expected, got in ((expected_text, got_text), (expected_image, got_image)):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert sorted(path.name for path in export.folder.glob("*.onnx")) == [IMAGE_FILE, TEXT_FILE]
