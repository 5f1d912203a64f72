"""The request limits middleware on a minimal ASGI app: body sizes (declared and streamed), the upload disk budget
and nosniff on served files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.limits import RequestLimits, UploadBudget, folder_size

BODY_LIMIT = 1_000
UPLOAD_LIMIT = 5_000


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


async def upload(request: Request) -> JSONResponse:
    data = await request.body()
    target = request.app.state.folder / f"upload-{len(list(request.app.state.folder.iterdir()))}"
    target.write_bytes(data)
    return JSONResponse({"stored": len(data)})


async def served(request: Request) -> PlainTextResponse:
    return PlainTextResponse("<html>photo?</html>", media_type="image/jpeg")


@pytest.fixture
def client(tmp_path) -> TestClient:
    folder = tmp_path / "uploads"
    folder.mkdir()
    budget = UploadBudget(folder, limit=8_000, measure_every=0.0)
    app = Starlette(
        routes=[
            Route("/gradio_api/call/search_text", echo, methods=["POST"]),
            Route("/gradio_api/upload", upload, methods=["POST"]),
            Route("/gradio_api/file={path:path}", served),
        ],
        middleware=[Middleware(RequestLimits, body_limit=BODY_LIMIT, upload_limit=UPLOAD_LIMIT, budget=budget)],
    )
    app.state.folder = folder
    return TestClient(app)


def test_bodies_within_the_limit_pass_through(client):
    assert client.post("/gradio_api/call/search_text", content=b"x" * BODY_LIMIT).json() == {"received": BODY_LIMIT}


def test_a_declared_body_over_the_limit_is_refused_unread(client):
    response = client.post("/gradio_api/call/search_text", content=b"x" * (BODY_LIMIT + 1))
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_a_route_of_its_own_has_its_own_limit(tmp_path):
    routes = [Route(path, echo, methods=["POST"]) for path in ("/gradio_api/mcp/", "/gradio_api/call/search_text")]
    limits = Middleware(
        RequestLimits, body_limit=BODY_LIMIT, upload_limit=UPLOAD_LIMIT, route_limits=[(re.compile(r"/mcp/?$"), 3000)]
    )
    client = TestClient(Starlette(routes=routes, middleware=[limits]))
    assert client.post("/gradio_api/mcp/", content=b"x" * 3000).json() == {"received": 3000}
    assert client.post("/gradio_api/mcp/", content=b"x" * 3001).status_code == 413
    assert client.post("/gradio_api/call/search_text", content=b"x" * (BODY_LIMIT + 1)).status_code == 413


def test_a_streamed_body_over_the_limit_is_refused(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 100

    response = client.post("/gradio_api/call/search_text", content=chunks())
    assert response.status_code == 413


def test_a_streamed_body_within_the_limit_reaches_the_app_whole(client):
    def chunks():
        for _ in range(9):
            yield b"x" * 100

    assert client.post("/gradio_api/call/search_text", content=chunks()).json() == {"received": 900}


def test_uploads_have_their_own_limit(client):
    assert client.post("/gradio_api/upload", content=b"x" * 3_000).json() == {"stored": 3_000}
    assert client.post("/gradio_api/upload", content=b"x" * (UPLOAD_LIMIT + 1)).status_code == 413


def test_uploads_stop_at_the_disk_budget_and_resume_when_space_is_freed(client, tmp_path):
    for _ in range(2):
        assert client.post("/gradio_api/upload", content=b"x" * 4_000).status_code == 200
    refused = client.post("/gradio_api/upload", content=b"x" * 100)
    assert refused.status_code == 507
    assert "space for uploaded photos is full" in refused.json()["detail"]
    next((tmp_path / "uploads").iterdir()).unlink()
    assert client.post("/gradio_api/upload", content=b"x" * 100).status_code == 200


def test_served_files_and_upload_answers_are_not_sniffed(client):
    assert client.get("/gradio_api/file=/tmp/x.jpg").headers["x-content-type-options"] == "nosniff"
    assert client.post("/gradio_api/upload", content=b"x").headers["x-content-type-options"] == "nosniff"
    assert "x-content-type-options" not in client.post("/gradio_api/call/search_text", content=b"{}").headers


def test_folder_size_counts_nested_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one").write_bytes(b"x" * 10)
    (tmp_path / "a" / "b" / "two").write_bytes(b"x" * 5)
    assert folder_size(tmp_path) == 15
    assert folder_size(tmp_path / "missing") == 0


def test_reservations_count_until_released(tmp_path):
    budget = UploadBudget(Path(tmp_path), limit=100, measure_every=0.0)
    assert budget.reserve(60)
    assert not budget.reserve(60)
    budget.release(60)
    assert budget.reserve(60)
