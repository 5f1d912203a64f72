"""Shared fixtures: a tiny random CLIP and MarianMT, a generated catalog and a bundle built through index_build.py."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import shutil
from pathlib import Path

import huggingface_hub.constants
import pytest

import index_build
from search.engine import SearchEngine
from search.fixtures.random_marian import save_random_marian
from search.fixtures.random_model import save_random_clip
from search.fixtures.synthetic import save_catalog
from search.indexing.default_index import ensure_demo_bundle
from search.language import load_query_language
from search.paths import CACHE_DIR_ENV
from tests.helpers import FakeHub, build_args

CATALOG_SIZE = 240


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory) -> Path:
    """The session's own user cache (ONNX exports, default index): tests never read or fill ~/.cache."""
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(folder))
        yield folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random-weight CLIP saved with save_pretrained: loads like any Hub checkpoint."""
    return save_random_clip("clip-tiny", tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    """A random-weight MarianMT translation model laid out like an opus-mt checkpoint (tokenizer trained here)."""
    return save_random_marian("marian-tiny", tmp_path_factory.mktemp("models") / "tiny-marian")


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory) -> Path:
    """A generated catalog in the schema of ashraq/fashion-product-images-small, as save_to_disk output."""
    return save_catalog(CATALOG_SIZE, tmp_path_factory.mktemp("data") / "catalog")


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory, catalog_dir, tiny_model) -> Path:
    """A bundle built by the real index_build.py entry point."""
    out = tmp_path_factory.mktemp("bundles") / "tiny-index"
    assert index_build.main(build_args(catalog_dir, tiny_model, out)) == 0
    return out


@pytest.fixture(scope="session")
def engine(bundle_dir) -> SearchEngine:
    return SearchEngine.load(bundle_dir)


@pytest.fixture(scope="session")
def plain_engine(engine) -> SearchEngine:
    """The same bundle with texts searched as typed at the fixed default balance (no query reader), as before
    search.understanding: for tests of the ranking mechanics themselves."""
    return SearchEngine(engine.bundle, engine.encoder, engine.folder, understand=False)


@pytest.fixture(scope="session")
def photo(engine, tmp_path_factory) -> Path:
    """A catalog product's photo as a file a visitor or client would upload."""
    path = tmp_path_factory.mktemp("upload") / "query.png"
    engine.product_image(int(engine.products.ids[17])).save(path)
    return path


@pytest.fixture(scope="session")
def demo_engine() -> SearchEngine:
    """The demo the app serves offline: the real catalog and the small CLIP trained on real photos shipped in
    assets/demo/, built once per session into the session's cache as the app builds it."""
    return SearchEngine.load(ensure_demo_bundle())


@pytest.fixture(scope="session")
def multilingual_engine(bundle_dir, tiny_marian) -> SearchEngine:
    """The same bundle with the query-language step translating by the tiny MarianMT, loaded as the app does."""
    return SearchEngine.load(bundle_dir, language=load_query_language(str(tiny_marian), device="cpu", num_beams=1))


@pytest.fixture
def bundle_copy(bundle_dir, tmp_path) -> Path:
    """A private copy of the bundle that a test may damage."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache that snapshot_download reads in offline mode."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return cache


@pytest.fixture
def fake_hub(monkeypatch) -> FakeHub:
    """The Hub's network boundary replaced by a recorder (everything before it runs for real)."""
    return FakeHub().install(monkeypatch, "search.hub_upload")
