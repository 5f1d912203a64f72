"""The Space app served for real on localhost: every named endpoint through gradio_client, checked against the
engine called directly; product images served as stored; the embedded default index; `python app.py` itself."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import gradio
import httpx
import huggingface_hub
import numpy as np
import pytest
import yaml
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import app
import search.build.default_index
from benchmarks.common import free_port
from search.build.default_index import DefaultIndexError, ensure_default_bundle
from search.bundle import read_manifest
from search.catalog import DEFAULT_DATASET
from search.encoder import DEFAULT_MODEL
from search.engine import SearchEngine

REPO = Path(__file__).resolve().parent.parent
INDEX_REPO = "fashion-search/fashion-product-index"
ENDPOINTS = {
    "/search_text",
    "/search_image",
    "/search_composed",
    "/more_like_this",
    "/search_embedding",
    "/embed",
    "/filter_choices",
}


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=tmp_path_factory.mktemp("downloads"))


@pytest.fixture(scope="module")
def raw_client(app_url) -> Client:
    """A client that leaves files on the server: images come back as FileData with their URL."""
    return Client(app_url, verbose=False, download_files=False)


@pytest.fixture(scope="module")
def photo(engine, tmp_path_factory) -> Path:
    """A catalog product's photo as a file a client uploads."""
    path = tmp_path_factory.mktemp("upload") / "query.png"
    engine.product_image(int(engine.products.ids[17])).save(path)
    return path


def assert_same_results(payload: dict, expected, engine) -> None:
    """The JSON results are the engine's, and each image is the product's stored photo, byte for byte."""
    assert [r["id"] for r in payload["results"]] == expected.ids
    np.testing.assert_allclose([r["score"] for r in payload["results"]], [r.score for r in expected], atol=1e-5)
    for result, wanted in zip(payload["results"], expected.results, strict=True):
        assert result["name"] == wanted.name and result["metadata"] == wanted.metadata
        assert Path(result["image"]).read_bytes() == engine.products.image_bytes(wanted.row)
    assert payload["notices"] == expected.notices and payload["elapsed_ms"] > 0


def test_only_the_named_endpoints_are_public(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ENDPOINTS


def test_text_endpoint_with_filters(client, engine):
    filters = {"gender": ["Men", "Boys"], "masterCategory": "Apparel"}
    payload = client.predict("red shirt", k=6, filters=filters, api_name="/search_text")
    assert_same_results(payload, engine.search_text("red shirt", k=6, filters=filters), engine)
    assert all(r["metadata"]["gender"] in {"Men", "Boys"} for r in payload["results"])


@pytest.mark.parametrize("semantic_weight", [0.0, 0.4])
def test_text_endpoint_keyword_and_hybrid(client, engine, semantic_weight):
    filters = {"masterCategory": "Apparel"}
    payload = client.predict("red shirt", 6, filters, semantic_weight, api_name="/search_text")
    expected = engine.search_text("red shirt", k=6, filters=filters, semantic_weight=semantic_weight)
    assert_same_results(payload, expected, engine)
    assert payload["results"]


def test_image_endpoint_finds_the_photographed_product(client, engine, photo):
    payload = client.predict(handle_file(str(photo)), k=5, api_name="/search_image")
    assert_same_results(payload, engine.search_image(photo, k=5), engine)
    assert int(engine.products.ids[17]) in [r["id"] for r in payload["results"]]


def test_composed_endpoint(client, engine, photo):
    payload = client.predict(handle_file(str(photo)), "same but in red", 0.3, 7, {"season": "Summer"},
                             api_name="/search_composed")  # fmt: skip
    assert_same_results(payload, engine.search_composed(photo, "same but in red", 0.3, 7, {"season": "Summer"}), engine)


def test_more_like_this_endpoint(client, engine):
    product_id = int(engine.products.ids[42])
    payload = client.predict(product_id, k=4, api_name="/more_like_this")
    assert_same_results(payload, engine.more_like_this(product_id, k=4), engine)
    assert product_id not in [r["id"] for r in payload["results"]]


def test_embed_text_and_image_then_search_by_embedding(client, engine, photo):
    text = client.predict(text="black leather boots", api_name="/embed")
    expected, _ = engine.embed_text("black leather boots")
    np.testing.assert_allclose(text["embedding"], expected, atol=1e-6)
    assert text["dim"] == engine.index.dim and text["input"] == "text"
    assert text["model"] == engine.model_id
    image = client.predict(image=handle_file(str(photo)), api_name="/embed")
    np.testing.assert_allclose(image["embedding"], engine.embed_image(photo), atol=1e-6)
    assert image["input"] == "image"
    payload = client.predict(text["embedding"], k=5, filters={"usage": "Casual"}, api_name="/search_embedding")
    assert_same_results(payload, engine.search_vector(expected, k=5, filters={"usage": "Casual"}), engine)


def test_filter_choices_endpoint(client, engine):
    assert client.predict(api_name="/filter_choices") == engine.filter_choices()


def test_large_k_is_clamped_and_the_notice_returned(raw_client):
    payload = raw_client.predict("shirt", k=1000, api_name="/search_text")
    assert len(payload["results"]) == 100 and "reduced to 100" in payload["notices"][0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"text": "  ", "api_name": "/search_text"}, "Type something to search for"),
        ({"text": "shirt", "k": 0, "api_name": "/search_text"}, "must be at least 1"),
        (
            {"text": "shirt", "filters": {"baseColour": "Purpel"}, "api_name": "/search_text"},
            "No product has baseColour",
        ),
        ({"text": "shirt", "filters": {"colour": "Red"}, "api_name": "/search_text"}, "Unknown filter field"),
        ({"product_id": 999, "api_name": "/more_like_this"}, "No product with id 999"),
        ({"embedding": [1.0, 2.0], "api_name": "/search_embedding"}, "this index needs 32"),
        ({"api_name": "/embed"}, "Give either a text or an image"),
        ({"image": {"path": "/etc/hostname", "meta": {}}, "api_name": "/search_image"}, "must be uploaded as files"),
    ],
)
def test_bad_requests_get_the_engines_message(client, arguments, message):
    with pytest.raises(AppError, match=message):
        client.predict(**arguments)


def test_an_unreadable_upload_is_explained(client, tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_text("not an image")
    with pytest.raises(AppError, match="not an image that can be read"):
        client.predict(handle_file(str(fake)), api_name="/search_image")


def test_only_result_images_are_served(raw_client, app_url, engine):
    result = raw_client.predict("shirt", k=1, api_name="/search_text")["results"][0]
    served = httpx.get(result["image"]["url"])
    assert served.status_code == 200
    assert served.content == engine.products.image_bytes(engine.products.row_of(result["id"]))
    for path in (REPO / "app.py", Path("/etc/hostname")):
        assert httpx.get(f"{app_url}gradio_api/file={path}").status_code == 403


def test_product_images_fall_back_to_a_placeholder_and_convert_other_formats(engine, tmp_path, monkeypatch):
    images = app.ProductImages(engine, tmp_path)
    first, second = engine.search_text("shirt", k=2).results
    tiff = tmp_path / "photo.tiff"
    engine.product_image(second.product_id).save(tiff)
    monkeypatch.setattr(engine.products, "image_bytes", lambda row: None)
    assert Path(images.path(first.product_id)).read_bytes() == (app.ASSETS / app.PLACEHOLDER).read_bytes()
    monkeypatch.setattr(engine.products, "image_bytes", lambda row: tiff.read_bytes())
    converted = Path(images.path(second.product_id))
    assert converted.name == f"{second.product_id}.png" and converted.parent == images.folder
    assert Image.open(converted).format == "PNG"


def test_default_index_is_built_once_then_reused(catalog_dir, tiny_model, tmp_path, monkeypatch):
    folder = ensure_default_bundle(tmp_path, dataset=str(catalog_dir), model=str(tiny_model), limit=50)
    manifest = read_manifest(folder)
    assert manifest.dataset.num_rows == 50 and manifest.model.id == str(tiny_model)
    assert len(SearchEngine.load(folder).search_text("red shirt", k=3)) == 3

    def no_build(config):
        raise AssertionError("the cached default index should have been reused")

    monkeypatch.setattr(search.build.default_index, "run_build", no_build)
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

    monkeypatch.setattr(search.build.default_index, "run_build", no_build)
    with pytest.raises(
        DefaultIndexError, match=r"dataset 'ashraq/fashion-product-images-small' could not be loaded \(Conn"
    ):
        ensure_default_bundle(tmp_path)


def test_unreachable_model_gives_one_clear_message(hub_cache, catalog_dir, tmp_path):
    with pytest.raises(DefaultIndexError, match="the model 'patrickjohncyh/fashion-clip' could not be loaded"):
        ensure_default_bundle(tmp_path, dataset=str(catalog_dir))


def test_readme_front_matter_makes_a_valid_gradio_space():
    front_matter = (REPO / "README.md").read_text(encoding="utf-8").split("---\n")[1]
    space = yaml.safe_load(front_matter)
    pinned = re.search(r"^gradio==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert space["sdk"] == "gradio" and space["sdk_version"] == pinned == gradio.__version__
    assert (REPO / space["app_file"]).is_file() and space["python_version"].startswith("3.")
    assert {space["colorFrom"], space["colorTo"]} <= {
        "red",
        "yellow",
        "green",
        "blue",
        "indigo",
        "purple",
        "pink",
        "gray",
    }
    assert space["title"] and space["emoji"] and len(space["short_description"]) <= 60 and space["license"]
    assert DEFAULT_MODEL in space["models"] and DEFAULT_DATASET in space["datasets"]
    assert {f"datasets/{INDEX_REPO}", DEFAULT_MODEL} <= set(space["preload_from_hub"])


def run_app(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python app.py ...` in a child process, offline, its output going to `log`."""
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), *args],
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"app.py did not serve {url} within {timeout} s:\n{log.read_text()}")


def test_app_without_index_offline_exits_with_the_message_and_no_traceback(tmp_path):
    env = {"SEARCH_CACHE_DIR": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf"), "SEARCH_INDEX": ""}
    log = tmp_path / "app.log"
    process = run_app(env=env, log=log)
    assert process.wait(timeout=240) == 1
    output = log.read_text()
    assert "Traceback" not in output
    assert "start the app with a local index bundle: `python app.py --index path/to/bundle`" in output


def test_app_serves_the_bundle_given_with_index(bundle_dir, tmp_path):
    port, log = free_port(), tmp_path / "app.log"
    process = run_app("--index", str(bundle_dir), "--port", str(port), env={}, log=log)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(process, url, log)
        payload = Client(url, verbose=False, download_files=False).predict("red shirt", k=3, api_name="/search_text")
        assert len(payload["results"]) == 3
    finally:
        process.terminate()
        process.wait(timeout=60)
