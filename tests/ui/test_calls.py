"""Calls with too few arguments get a message naming the endpoint and its arguments; every other call passes
through unchanged."""

from __future__ import annotations

import json

import gradio as gr
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.calls import ArgumentCount, signatures


def search_text(text: str, k: int = 24, filters: dict | None = None) -> dict:
    return {"text": text, "k": k, "filters": filters}


@pytest.fixture(scope="module")
def demo() -> gr.Blocks:
    with gr.Blocks() as blocks:
        gr.api(search_text, api_name="search_text")
        box = gr.Textbox()
        box.submit(lambda text: text, box, box, api_visibility="private")
    return blocks


async def received(request: Request) -> JSONResponse:
    return JSONResponse({"body": (await request.body()).decode()})


@pytest.fixture
def client(demo) -> TestClient:
    routes = [Route(path, received, methods=["POST"]) for path in ("/gradio_api/call/{name}", "/gradio_api/queue/join")]
    app = Starlette(routes=routes, middleware=[Middleware(ArgumentCount, demo=demo, body_limit=10_000)])
    return TestClient(app)


def test_signatures_name_the_endpoints_and_their_parameters(demo):
    by_name, by_index = signatures(demo)
    assert by_name["search_text"].parameters == ("text", "k", "filters")
    assert by_index[1].name == "This event" and len(by_index[1].parameters) == 1


@pytest.mark.parametrize("count", [0, 1, 2])
def test_too_few_values_are_refused_by_name(client, count):
    response = client.post("/gradio_api/call/search_text", json={"data": ["shirt", 5][:count]})
    assert response.status_code == 422
    expected = f"/search_text takes 3 values in `data` (text, k, filters); got {count}"
    assert response.json()["detail"].startswith(expected)


def test_page_events_are_checked_by_their_index(client):
    response = client.post("/gradio_api/queue/join", json={"data": [], "fn_index": 1, "session_hash": "s"})
    assert response.status_code == 422 and "This event takes 1 values" in response.json()["detail"]


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/gradio_api/call/search_text", {"data": ["shirt", 5, None]}),
        ("/gradio_api/call/search_text", {"data": ["shirt", 5, None, "extra"]}),
        ("/gradio_api/call/unknown", {"data": []}),
        ("/gradio_api/queue/join", {"data": ["x"], "fn_index": 1}),
        ("/gradio_api/queue/join", {"data": [], "fn_index": 99}),
        ("/gradio_api/call/search_text", {"data": "not a list"}),
    ],
)
def test_other_calls_reach_the_app_unchanged(client, route, body):
    response = client.post(route, content=json.dumps(body))
    assert response.status_code == 200 and json.loads(response.json()["body"]) == body


def test_malformed_json_is_left_to_gradio(client):
    response = client.post("/gradio_api/call/search_text", content=b"{not json")
    assert response.status_code == 200 and response.json()["body"] == "{not json"
