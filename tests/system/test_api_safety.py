"""The client API over the wire refuses what it cannot answer: every bad argument value gets a specific message
(never the generic one), request bodies are limited for JSON calls too, uploads share a disk budget and served
files carry `X-Content-Type-Options: nosniff`."""

from __future__ import annotations

import io
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.helpers import free_port
from ui import build_demo, launch
from ui.limits import folder_size

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


@pytest.fixture(scope="module")
def valid(url, engine) -> dict[str, dict[str, object]]:
    """A valid call of every endpoint that takes arguments, by name in the API's order: every argument given, the
    optional ones at their defaults (from the API description, so new arguments are covered too)."""
    required = {
        "text": "shirt",
        "image": upload(url, png()),
        "product_id": PRODUCT,
        "embedding": engine.embed_text("shirt")[0].tolist(),
    }
    endpoints = httpx.get(f"{url}gradio_api/info", timeout=30).json()["named_endpoints"]
    calls = {
        name.lstrip("/"): {p["parameter_name"]: required.get(p["parameter_name"], p["parameter_default"]) for p in ps}
        for name, info in endpoints.items()
        if (ps := info["parameters"])
    }
    calls["embed"]["image"] = None
    return calls


def data(valid: dict[str, dict[str, object]], endpoint: str, **changes: object) -> list:
    """The `data` list of a valid call of `endpoint` with some arguments changed."""
    return list({**valid[endpoint], **changes}.values())


def test_no_argument_value_reaches_the_generic_error(url, valid):
    """Every argument of every endpoint gets every bad value; each answer is a result or a specific message."""
    cases = [
        (endpoint, name, value) for endpoint, arguments in valid.items() for name in arguments for value in BAD_VALUES
    ]

    def answer(case: tuple[str, str, object]) -> str | None:
        endpoint, name, value = case
        kind, message = call(url, endpoint, data(valid, endpoint, **{name: value}))
        if kind == "complete" or (isinstance(message, str) and message and GENERIC not in message):
            return None
        return f"/{endpoint} {name} = {repr(value)[:40]}: {kind} {message!r}"[:200]

    with ThreadPoolExecutor(4) as pool:
        generic = [problem for problem in pool.map(answer, cases) if problem]
    assert generic == []
    assert call(url, "search_text", data(valid, "search_text"))[0] == "complete"


@pytest.mark.parametrize("text", [123, ["a"], {"a": 1}, True])
def test_embed_refuses_non_text(url, text):
    kind, answer = call(url, "embed", [text, None])
    assert kind == "error" and "text must be a string" in answer


@pytest.mark.parametrize("count", [0, 1, 2])
def test_too_few_arguments_are_named(url, valid, count):
    kind, message = call(url, "search_text", data(valid, "search_text")[:count])
    assert kind == "refused" and message.startswith("422")
    assert f"/search_text takes {len(valid['search_text'])} values" in message and f"got {count}" in message


def test_fractional_product_ids_are_not_truncated(url, valid):
    kind, message = call(url, "more_like_this", data(valid, "more_like_this", product_id=PRODUCT + 0.5))
    assert kind == "error" and "whole number" in message


def test_an_embedding_near_the_float32_limit_searches_like_its_direction(url, valid, engine):
    vector = engine.embed_text("shirt")[0].astype(np.float64)
    kind, scaled = call(url, "search_embedding", data(valid, "search_embedding", embedding=(vector * 1e38).tolist()))
    _, plain = call(url, "search_embedding", data(valid, "search_embedding", embedding=vector.tolist()))
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


def test_text_under_the_body_limit_is_cut_with_a_notice(url, valid):
    kind, payload = call(url, "search_text", data(valid, "search_text", text="red shirt " * 50_000))
    assert kind == "complete"
    assert any("500,000 characters" in notice for notice in payload[0]["notices"])


# --- served files --------------------------------------------------------------------------------------------------


def test_served_files_are_not_content_sniffed(url, valid):
    kind, payload = call(url, "search_text", data(valid, "search_text"))
    assert kind == "complete"
    photo = httpx.get(payload[0]["results"][0]["image"]["url"], timeout=30)
    assert photo.status_code == 200
    assert photo.headers["x-content-type-options"] == "nosniff"
    uploaded = upload(url, png("blue"))["path"]
    served = httpx.get(f"{url}gradio_api/file={uploaded}", timeout=30)
    assert served.status_code == 200 and served.headers["x-content-type-options"] == "nosniff"


# --- the uploads' disk budget --------------------------------------------------------------------------------------


@pytest.fixture
def budgeted(engine, tmp_path, monkeypatch):
    """The app with an upload folder of its own (as app.py gives every instance) and room for 300 kB of uploads
    next to the example photos Gradio keeps there."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    demo = build_demo(engine)
    budget = folder_size(tmp_path / "uploads") + 300_000
    served = launch(demo, "127.0.0.1", free_port(), block=False, upload_sweep=(1, 2), upload_budget=budget)
    yield served
    demo.close()


def noise_png(seed: int) -> bytes:
    """A 90 kB PNG that does not compress (each upload is a distinct file)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (170, 175, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_stop_at_the_disk_budget_until_the_sweep_frees_space(budgeted):
    sizes = []
    for seed in range(3):
        response = httpx.post(f"{budgeted}gradio_api/upload", files={"files": (f"{seed}.png", noise_png(seed))})
        assert response.status_code == 200, response.text
        sizes.append(len(noise_png(seed)))
    refused = httpx.post(f"{budgeted}gradio_api/upload", files={"files": ("3.png", noise_png(3))})
    assert sum(sizes) <= 300_000 < sum(sizes) + len(noise_png(3))
    assert refused.status_code == 507
    assert "space for uploaded photos is full" in refused.json()["detail"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        again = httpx.post(f"{budgeted}gradio_api/upload", files={"files": ("3.png", noise_png(3))})
        if again.status_code == 200:
            break
        time.sleep(0.5)
    assert again.status_code == 200, "the sweep frees the budget"
