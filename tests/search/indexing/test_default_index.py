"""The embedded default index: built once and cached, rebuilt when damaged, and one clear message when the Hub
cannot be reached."""

import huggingface_hub
import pytest

import search.indexing.default_index
from search.bundle import read_manifest
from search.engine import SearchEngine
from search.indexing.default_index import DefaultIndexError, ensure_default_bundle
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
    assert "dataset 'ashraq/fashion-product-images-small' could not be loaded" in message
    assert "--index" in message and "SEARCH_INDEX" in message and "\n" not in message


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
