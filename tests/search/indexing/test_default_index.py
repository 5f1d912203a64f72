"""The embedded default index: built once and cached, rebuilt when damaged, one clear message when the Hub cannot be
reached, and then the demo (the shipped catalog and model, built once into a folder named by their content)."""

import shutil
from pathlib import Path

import huggingface_hub
import pytest

import search.encoding.onnx_export
import search.indexing.default_index
from search.bundle import read_manifest
from search.engine import SearchEngine
from search.indexing.default_index import (
    DEMO_INDEX,
    DefaultIndexError,
    default_index,
    demo_key,
    ensure_default_bundle,
    ensure_demo_bundle,
)
from tests.helpers import free_port


def test_default_index_is_built_once_then_reused(catalog_dir, tiny_model, tmp_path, monkeypatch):
    folder = ensure_default_bundle(tmp_path, dataset=str(catalog_dir), model=str(tiny_model), limit=50)
    manifest = read_manifest(folder)
    assert manifest.dataset.num_rows == 50 and manifest.model.id == str(tiny_model)
    assert len(SearchEngine.load(folder).search_text("red shirt", k=3)) == 3

    def no_build(config):
        raise AssertionError("the cached default index should have been reused")

    monkeypatch.setattr(search.indexing.default_index, "run_build", no_build)
    assert ensure_default_bundle(tmp_path, dataset=str(catalog_dir), model=str(tiny_model), limit=50) == folder


def test_damaged_default_index_is_rebuilt(catalog_dir, tiny_model, tmp_path):
    folder = ensure_default_bundle(tmp_path, dataset=str(catalog_dir), model=str(tiny_model), limit=30)
    (folder / "index.faiss").write_bytes(b"damaged")
    assert ensure_default_bundle(tmp_path, dataset=str(catalog_dir), model=str(tiny_model), limit=30) == folder
    read_manifest(folder)


def test_unreachable_hub_gives_one_clear_message(hub_cache, tmp_path):
    with pytest.raises(DefaultIndexError) as raised:
        ensure_default_bundle(tmp_path)
    message = str(raised.value)
    assert "dataset 'ashraq/fashion-product-images-small' could not be loaded" in message and "\n" not in message


def test_without_the_hub_the_demo_is_served_with_one_warning(hub_cache, tmp_path, caplog):
    assert default_index(tmp_path) == DEMO_INDEX
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1 and "Serving the demo catalog instead" in warnings[0].getMessage()


def test_the_demo_is_built_once_then_reused(catalog_dir, tiny_model, tmp_path, monkeypatch):
    folder = ensure_demo_bundle(tmp_path, catalog=catalog_dir, model=tiny_model)
    assert folder.parent == tmp_path and folder.name.startswith("demo-")
    assert SearchEngine.load(folder).num_products == 240
    monkeypatch.setattr(search.indexing.default_index, "run_build", refuse_to_build)
    assert ensure_demo_bundle(tmp_path, catalog=catalog_dir, model=tiny_model) == folder


def test_a_changed_demo_catalog_or_model_is_built_afresh(catalog_dir, tiny_model, tmp_path):
    catalog = Path(shutil.copytree(catalog_dir, tmp_path / "catalog"))
    model = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    key = demo_key(catalog, model)
    assert demo_key(catalog, model) == key
    (model / "config.json").write_text((model / "config.json").read_text() + " ")
    assert demo_key(catalog, model) != key
    changed = demo_key(catalog, model)
    data = next(catalog.glob("*.arrow"))
    data.write_bytes(data.read_bytes() + b"\0")
    assert demo_key(catalog, model) != changed


def test_the_demo_model_s_shipped_onnx_towers_are_used_not_exported(
    catalog_dir, tiny_model, onnx_encoder, tmp_path, monkeypatch
):
    model = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    shutil.copytree(onnx_encoder.towers.export.folder, model / "onnx")

    def no_export(*args, **kwargs):
        raise AssertionError("the shipped ONNX towers should have been used")

    monkeypatch.setattr(search.encoding.onnx_export, "export_towers", no_export)
    folder = ensure_demo_bundle(tmp_path / "cache", catalog=catalog_dir, model=model)
    engine = SearchEngine.load(folder)
    assert engine.encoder.runtime == "onnx" and read_manifest(folder).components.onnx is not None


def refuse_to_build(config):
    raise AssertionError("the cached index should have been reused")


def test_unreachable_hub_is_detected_before_building(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{free_port()}")

    def no_build(config):
        raise AssertionError("an unreachable Hub should stop the default index before the build")

    monkeypatch.setattr(search.indexing.default_index, "run_build", no_build)
    with pytest.raises(
        DefaultIndexError, match=r"dataset 'ashraq/fashion-product-images-small' could not be loaded \(Conn"
    ):
        ensure_default_bundle(tmp_path)


def test_unreachable_model_gives_one_clear_message(hub_cache, catalog_dir, tmp_path):
    with pytest.raises(DefaultIndexError, match="the model 'patrickjohncyh/fashion-clip' could not be loaded"):
        ensure_default_bundle(tmp_path, dataset=str(catalog_dir))
