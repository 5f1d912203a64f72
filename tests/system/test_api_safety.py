"""The client API over the wire refuses what it cannot answer: every bad argument value gets a specific message
(never the generic one), request bodies are limited for JSON calls too, uploads share a disk budget and served
files carry `X-Content-Type-Options: nosniff`."""

from __future__ import annotations

import io
import json
import math

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.helpers import free_port
from ui import build_demo, launch

pytestmark = pytest.mark.system

GENERIC = "Something went wrong"
PRODUCT = 10005


@pytest.fixture(scope="module")
def url(engine):
    demo = build_demo(engine)
    served = launch(demo, "127.0.0.1", free_port(), block=False)
    yield served
    demo.close()


def call(url: str, endpoint: str, data: list, timeout: float = 60) -> tuple[str, object]:
    """One raw call of a named endpoint: ("complete", outputs) or ("error", message)."""
    body = json.dumps({"data": data})
    response = httpx.post(
        f"{url}gradio_api/call/{endpoint}", content=body, headers={"content-type": "application/json"}, timeout=timeout
    )
    if response.status_code != 200:
        return "refused", f"{response.status_code} {response.text[:300]}"
    event = response.json()["event_id"]
    stream = httpx.get(f"{url}gradio_api/call/{endpoint}/{event}", timeout=timeout).text
    kind = stream.split("\n", 1)[0].removeprefix("event: ").strip()
    payload = json.loads(stream.split("data: ", 1)[1].split("\n", 1)[0])
    return kind, payload["error"] if kind == "error" else payload


def upload(url: str, data: bytes, name: str = "photo.png") -> dict:
    response = httpx.post(f"{url}gradio_api/upload", files={"files": (name, data)}, timeout=30)
    response.raise_for_status()
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}


def png(colour: str = "red", size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**400,
    -(10**400),
    1e308,
    "",
    " ",
    "abc",
    "x" * 50_000,
    [],
    [1],
    ["a"],
    [[1]],
    {},
    {"a": 1},
    {"gender": 5},
    {"gender": ""},
    {"path": "/etc/passwd"},
    {"path": ["a"], "meta": {"_type": "gradio.FileData"}},
    {"path": None, "url": "http://127.0.0.1:9/x.png", "meta": {"_type": "gradio.FileData"}},
    {"meta": {"_type": "gradio.FileData"}},
]


def valid_arguments(url: str, engine) -> dict[str, list]:
    photo = upload(url, png())
    return {
        "search_text": ["shirt", 5, None, 1.0],
        "search_image": [photo, 5, None],
        "search_composed": [photo, "in red", 0.5, 5, None],
        "more_like_this": [PRODUCT, 5, None],
        "search_embedding": [engine.embed_text("shirt")[0].tolist(), 5, None],
        "embed": ["shirt", None],
    }


def test_no_argument_value_reaches_the_generic_error(url, engine):
    """Every position of every endpoint gets every bad value; each answer is a result or a specific message."""
    generic = []
    for endpoint, valid in valid_arguments(url, engine).items():
        for position in range(len(valid)):
            for value in BAD_VALUES:
                data = [*valid[:position], value, *valid[position + 1 :]]
                kind, answer = call(url, endpoint, data)
                if kind != "complete" and (not isinstance(answer, str) or not answer or GENERIC in answer):
                    generic.append(f"/{endpoint} argument {position} = {repr(value)[:40]}: {kind} {answer!r}"[:200])
    assert generic == []
    assert call(url, "search_text", ["shirt", 3, None, 1.0])[0] == "complete"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([123, None], "text must be a string"),
        ([["a"], None], "text must be a string"),
        ([{"a": 1}, None], "text must be a string"),
        ([True, None], "text must be a string"),
    ],
)
def test_embed_refuses_non_text(url, data, message):
    kind, answer = call(url, "embed", data)
    assert kind == "error" and message in answer


def test_too_few_arguments_are_named(url):
    kind, message = call(url, "search_text", ["shirt", 5])
    assert kind in ("error", "refused") and isinstance(message, str)
    assert "search_text" in message and "4" in message


def test_fractional_product_ids_are_not_truncated(url):
    kind, message = call(url, "more_like_this", [PRODUCT + 0.5, 5, None])
    assert kind == "error" and "whole number" in message


def test_an_embedding_near_the_float32_limit_searches_like_its_direction(url, engine):
    vector = engine.embed_text("shirt")[0].astype(np.float64)
    kind, scaled = call(url, "search_embedding", [(vector * 1e38).tolist(), 5, None])
    _, plain = call(url, "search_embedding", [vector.tolist(), 5, None])
    assert kind == "complete"
    assert [r["id"] for r in scaled[0]["results"]] == [r["id"] for r in plain[0]["results"]]
    assert all(math.isfinite(r["score"]) and r["score"] > 0 for r in scaled[0]["results"][:1])


# --- request size --------------------------------------------------------------------------------------------------

JSON_ROUTES = ["gradio_api/call/search_text", "gradio_api/queue/join"]


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_json_bodies_over_the_limit_are_refused_before_they_are_read(url, route):
    body = json.dumps({"data": ["red shirt " * 300_000, 5, None, 1.0], "fn_index": 0, "session_hash": "x"})
    response = httpx.post(f"{url}{route}", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert "too large" in response.text


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_chunked_bodies_over_the_limit_are_refused(url, route):
    def chunks():
        yield b'{"data": ["'
        for _ in range(300):
            yield b"red shirt " * 1_000
        yield b'", 5, null, 1.0]}'

    response = httpx.post(f"{url}{route}", content=chunks(), headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413


def test_text_under_the_body_limit_is_cut_with_a_notice(url):
    kind, payload = call(url, "search_text", ["red shirt " * 50_000, 5, None, 1.0])
    assert kind == "complete"
    assert any("500,000 characters" in notice for notice in payload[0]["notices"])


# --- served files --------------------------------------------------------------------------------------------------


def test_served_files_are_not_content_sniffed(url):
    kind, payload = call(url, "search_text", ["shirt", 3, None, 1.0])
    assert kind == "complete"
    photo = httpx.get(payload[0]["results"][0]["image"]["url"], timeout=30)
    assert photo.status_code == 200
    assert photo.headers["x-content-type-options"] == "nosniff"
    uploaded = upload(url, png("blue"))["path"]
    served = httpx.get(f"{url}gradio_api/file={uploaded}", timeout=30)
    assert served.status_code == 200 and served.headers["x-content-type-options"] == "nosniff"
