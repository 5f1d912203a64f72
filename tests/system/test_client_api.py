"""The client API over the wire: every named endpoint through gradio_client on the real app served on localhost,
checked against the engine called directly; product images served as stored and nothing else."""

from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.helpers import ENDPOINTS, REPO, assert_same_results, free_port
from ui import build_demo, launch

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=tmp_path_factory.mktemp("downloads"))


@pytest.fixture(scope="module")
def raw_client(app_url) -> Client:
    """A client that leaves files on the server: images come back as FileData with their URL."""
    return Client(app_url, verbose=False, download_files=False)


def test_only_the_named_endpoints_are_public(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ENDPOINTS


def test_text_endpoint_with_filters(client, engine):
    filters = {"gender": ["Men", "Boys"], "masterCategory": "Apparel"}
    payload = client.predict("red shirt", k=6, filters=filters, api_name="/search_text")
    assert_same_results(payload, engine.search_text("red shirt", k=6, filters=filters, collapse_similar=True), engine)
    assert all(r["metadata"]["gender"] in {"Men", "Boys"} for r in payload["results"])


@pytest.mark.parametrize("semantic_weight", [0.0, 0.4])
def test_text_endpoint_keyword_and_hybrid(client, engine, semantic_weight):
    filters = {"masterCategory": "Apparel"}
    payload = client.predict("red shirt", 6, filters, semantic_weight, api_name="/search_text")
    expected = engine.search_text(
        "red shirt", k=6, filters=filters, semantic_weight=semantic_weight, collapse_similar=True
    )
    assert_same_results(payload, expected, engine)
    assert payload["results"]


def test_image_endpoint_finds_the_photographed_product(client, engine, photo):
    payload = client.predict(handle_file(str(photo)), k=5, api_name="/search_image")
    assert_same_results(payload, engine.search_image(photo, k=5, collapse_similar=True), engine)
    assert int(engine.products.ids[17]) in [r["id"] for r in payload["results"]]


def test_composed_endpoint(client, engine, photo):
    payload = client.predict(handle_file(str(photo)), "same but in red", 0.3, 7, {"season": "Summer"},
                             api_name="/search_composed")  # fmt: skip
    expected = engine.search_composed(photo, "same but in red", 0.3, 7, {"season": "Summer"}, collapse_similar=True)
    assert_same_results(payload, expected, engine)
    keywords = client.predict(handle_file(str(photo)), "red shirt", 0.2, 6, semantic_weight=0.0,
                              api_name="/search_composed")  # fmt: skip
    expected = engine.search_composed(photo, "red shirt", 0.2, 6, None, 0.0, collapse_similar=True)
    assert_same_results(keywords, expected, engine)


def test_every_search_endpoint_folds_similar_results_by_default_as_the_page_does(client, engine):
    counts = engine.catalog_labels(["productDisplayName"])["productDisplayName"].value_counts()
    name = next(name for name, count in counts.items() if name and count > 1)
    folded = client.predict(name, 20, None, 0.0, api_name="/search_text")
    assert [r["name"] for r in folded["results"]].count(name) == 1
    every = client.predict(name, 20, None, 0.0, collapse_similar=False, api_name="/search_text")
    assert [r["name"] for r in every["results"]].count(name) == counts[name]
    for endpoint in ("/search_text", "/search_image", "/search_composed", "/more_like_this", "/search_embedding"):
        parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]["parameters"]
        collapse = next(p for p in parameters if p["parameter_name"] == "collapse_similar")
        assert collapse["parameter_default"] is True, endpoint


def test_more_like_this_endpoint(client, engine):
    product_id = int(engine.products.ids[42])
    payload = client.predict(product_id, k=4, api_name="/more_like_this")
    assert_same_results(payload, engine.more_like_this(product_id, k=4, collapse_similar=True), engine)
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
    expected_results = engine.search_vector(expected, k=5, filters={"usage": "Casual"}, collapse_similar=True)
    assert_same_results(payload, expected_results, engine)


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
    assert served.content == engine.product_photo_bytes(result["id"])
    for path in (REPO / "app.py", Path("/etc/hostname")):
        assert httpx.get(f"{app_url}gradio_api/file={path}").status_code == 403


@pytest.fixture(scope="module")
def multilingual_client(multilingual_engine, tmp_path_factory):
    """The real app with the query-language step (the tiny MarianMT translating), through gradio_client."""
    demo = build_demo(multilingual_engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    yield Client(url, verbose=False, download_files=tmp_path_factory.mktemp("downloads"))
    demo.close()


def test_a_foreign_text_over_the_wire_is_translated_unless_asked_not_to(multilingual_client, multilingual_engine):
    payload = multilingual_client.predict("áo sơ mi nam màu đỏ", 6, api_name="/search_text")
    expected = multilingual_engine.search_text("áo sơ mi nam màu đỏ", 6, collapse_similar=True)
    assert_same_results(payload, expected, multilingual_engine)
    assert payload["translated"] and payload["searched_text"] == expected.query_text.searched
    assert payload["language"]["code"] == "vi" and payload["language"]["name"] == "Vietnamese"
    as_typed = multilingual_client.predict("áo sơ mi nam màu đỏ", 6, translate=False, api_name="/search_text")
    assert (as_typed["translated"], as_typed["searched_text"]) == (False, "áo sơ mi nam màu đỏ")
    assert_same_results(
        as_typed,
        multilingual_engine.search_text("áo sơ mi nam màu đỏ", 6, translate=False, collapse_similar=True),
        multilingual_engine,
    )


def test_a_bad_translate_flag_over_the_wire_is_explained(multilingual_client):
    with pytest.raises(AppError, match="translate must be true or false"):
        multilingual_client.predict("robe rouge", 5, None, 1.0, translate="maybe", api_name="/search_text")
