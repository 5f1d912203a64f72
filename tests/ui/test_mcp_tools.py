"""The MCP tools' own steps, without a server: image arguments as data URIs and URLs (public hosts only), the
answer's photos as URLs, and arguments named wrong."""

from __future__ import annotations

import asyncio
import base64

import pytest

from search import MAX_IMAGE_BYTES, InvalidImageError, InvalidQueryError
from ui.mcp_tools import check_names, data_uri_bytes, download, with_photo_urls

PNG = bytes.fromhex("89504e470d0a1a0a")  # the first bytes are enough: the engine checks the content


def test_a_base64_data_uri_gives_its_bytes():
    assert data_uri_bytes("data:image/png;base64," + base64.b64encode(PNG).decode()) == PNG
    assert data_uri_bytes("DATA:image/png;name=a.png;BASE64," + base64.b64encode(PNG).decode()) == PNG


def test_a_percent_encoded_data_uri_gives_its_bytes():
    assert data_uri_bytes("data:,%89PNG%0D%0A") == b"\x89PNG\r\n"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("data:image/png;base64,!!!", "The data URI's base64 cannot be decoded"),
        ("data:image/png;base64", "This data URI is malformed: 'data:image/png;base64'"),
        ("data:" + "a" * 200, "This data URI is malformed: 'data:" + "a" * 75 + "…'"),
    ],
)
def test_a_malformed_data_uri_is_refused_with_what_to_send(uri, message):
    with pytest.raises(InvalidImageError, match=message):
        data_uri_bytes(uri)


def test_a_data_uri_over_the_upload_limit_is_refused_before_decoding():
    with pytest.raises(InvalidImageError, match="too large: at most 20 MB"):
        data_uri_bytes("data:image/png;base64," + "A" * (4 * MAX_IMAGE_BYTES // 3 + 8))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:7860/photo.jpg", "The image URL's host '127.0.0.1' cannot be used"),
        ("http://localhost/photo.jpg", "The image URL's host 'localhost' cannot be used"),
        ("http://169.254.169.254/latest/meta-data", "The image URL's host '169.254.169.254' cannot be used"),
        ("http://10.0.0.1/photo.jpg", "The image URL's host '10.0.0.1' cannot be used"),
        ("http:///photo.jpg", "The image URL has no host"),
    ],
)
def test_urls_into_the_servers_own_network_are_never_fetched(url, message):
    with pytest.raises(InvalidImageError, match=message):
        asyncio.run(download(url))


def test_the_answers_photos_are_given_as_urls():
    image = {"path": "/tmp/x/1.jpg", "url": "https://space.hf.space/gradio_api/file=/tmp/x/1.jpg", "meta": {}}
    answer = {"results": [{"id": 1, "image": image}], "notices": []}
    assert with_photo_urls(answer) == {"results": [{"id": 1, "image": image["url"]}], "notices": []}
    choices = {"gender": ["Men"]}
    assert with_photo_urls(choices) == choices


PARAMETERS = [
    {"parameter_name": "text", "parameter_has_default": False},
    {"parameter_name": "k", "parameter_has_default": True},
]


def test_arguments_named_wrong_are_refused_naming_the_tools_arguments():
    check_names("search_text", PARAMETERS, {"text": "red", "k": 3})
    with pytest.raises(InvalidQueryError, match="search_text has no argument 'txt'; its arguments are text, k."):
        check_names("search_text", PARAMETERS, {"txt": "red"})
    with pytest.raises(InvalidQueryError, match="search_text needs the argument 'text': What to look for"):
        check_names("search_text", PARAMETERS, {"k": 3})
