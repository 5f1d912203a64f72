"""Fair use per client: the token bucket's arithmetic, the client's address behind trusted proxies, a human's pace
against the default budget (on a simulated clock), and the middleware on a minimal ASGI app."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.fair_use import (
    COUNTED_MARKER,
    LOOPBACK,
    ClientBudgets,
    FairUse,
    FairUseLimit,
    TokenBucket,
    client_address,
    mcp_tool_calls,
    retry_after,
)
from ui.settings import FAIR_USE_BURST, FAIR_USE_PER_MINUTE


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_refills_at_its_rate():
    bucket = TokenBucket(capacity=3, rate=0.5, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(2.0)  # one token every 2 s
    assert bucket.take(1.0) == pytest.approx(1.0)  # half a token refilled, nothing taken
    assert bucket.take(2.0) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == pytest.approx(2.0)  # refilled to capacity, not beyond


def test_each_client_has_its_own_budget():
    clock = Clock()
    budgets = ClientBudgets(FairUse(per_minute=60, burst=2), clock=clock)
    assert [budgets.take("203.0.113.5") for _ in range(2)] == [0.0, 0.0]
    assert budgets.take("203.0.113.5") == pytest.approx(1.0)
    assert budgets.take("198.51.100.7") == 0.0
    clock.now += 1.0
    assert budgets.take("203.0.113.5") == 0.0


def test_memory_stays_bounded_however_many_addresses_call():
    budgets = ClientBudgets(FairUse(per_minute=60, burst=1), max_clients=100, clock=Clock())
    for number in range(1_000):
        budgets.take(f"10.0.{number // 256}.{number % 256}")
    assert len(budgets) == 100
    assert budgets.take("10.0.3.231") > 0  # the most recent clients are remembered


def human_session(seconds: float) -> list[float]:
    """The calls of a visitor clicking through the page as fast as a person does: a search typed every 4 s, each
    followed by a tile opened and "More like this"; every 30 s a filter changed three times and a slider dragged
    (8 searches in 2 s)."""
    times, now = [], 0.0
    while now < seconds:
        times += [now, now + 1.5, now + 2.5]
        if int(now) % 30 == 0:
            times += [now + 3 + step * 0.25 for step in range(8)] + [now + 3.2, now + 3.4, now + 3.6]
        now += 4.0
    return sorted(times)


def test_a_visitor_at_a_human_pace_never_meets_the_default_budget():
    clock = Clock()
    budgets = ClientBudgets(FairUse(FAIR_USE_PER_MINUTE, FAIR_USE_BURST), clock=clock)
    start = clock.now
    calls = human_session(30 * 60)
    for moment in calls:
        clock.now = start + moment
        assert budgets.take("203.0.113.5") == 0.0
    assert len(calls) / 30 > 45  # calls a minute: close to the rate, yet within it


def test_a_script_past_the_budget_is_held_to_the_rate():
    clock = Clock()
    budgets = ClientBudgets(FairUse(FAIR_USE_PER_MINUTE, FAIR_USE_BURST), clock=clock)
    granted = 0
    for _ in range(600):  # 10 calls a second for a minute
        granted += budgets.take("203.0.113.5") == 0.0
        clock.now += 0.1
    assert granted == pytest.approx(FAIR_USE_BURST + FAIR_USE_PER_MINUTE, abs=1)


@pytest.mark.parametrize(
    ("forwarded", "peer", "trusted", "expected"),
    [
        (None, "203.0.113.5", 0, "203.0.113.5"),
        ("198.51.100.7", "203.0.113.5", 0, "203.0.113.5"),  # no trusted proxy: the header is ignored
        ("198.51.100.7", "10.0.0.2", 1, "198.51.100.7"),  # the Space's proxy reports the client
        ("6.6.6.6, 198.51.100.7", "10.0.0.2", 1, "198.51.100.7"),  # what the client wrote itself is ignored
        ("6.6.6.6, 198.51.100.7, 10.0.0.9", "10.0.0.2", 2, "198.51.100.7"),  # two proxies
        ("198.51.100.7", "10.0.0.2", 3, "198.51.100.7"),  # fewer hops than proxies: the leftmost
        (None, "10.0.0.2", 1, "10.0.0.2"),  # no header: the peer
        (None, "127.0.0.1", 0, LOOPBACK),
        (None, "::1", 0, LOOPBACK),
        ("2001:db8:1:2:3:4:5:6", "10.0.0.2", 1, "2001:db8:1:2::/64"),  # IPv6 counted per /64
        ("not-an-address", "10.0.0.2", 1, "not-an-address"),
    ],
)
def test_the_client_is_the_address_the_trusted_proxy_reports(forwarded, peer, trusted, expected):
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "headers": headers, "client": (peer, 5000)}
    assert client_address(scope, trusted) == expected


def test_the_tool_calls_of_an_mcp_body_are_counted():
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search_text"}}
    listing = {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}
    assert mcp_tool_calls(json.dumps(call).encode()) == [call]
    assert mcp_tool_calls(json.dumps([call, listing, call]).encode()) == [call, call]
    assert mcp_tool_calls(json.dumps(listing).encode()) == []
    assert mcp_tool_calls(b"{not json") == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"per_minute": 0, "burst": 5}, "The rate must be a positive number of calls a minute, got 0."),
        ({"per_minute": float("nan"), "burst": 5}, "The rate must be a positive number of calls a minute, got nan."),
        ({"per_minute": 60, "burst": 0}, "The burst must be at least 1 call, got 0."),
        ({"per_minute": 60, "burst": 5, "trusted_proxies": -1}, "cannot be negative, got -1."),
    ],
)
def test_settings_that_make_no_budget_are_refused(settings, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        FairUse(**settings)


def test_retry_after_is_whole_seconds_and_never_zero():
    assert [retry_after(wait) for wait in (0.01, 1.0, 1.2, 9.99)] == [1, 1, 2, 10]


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body()), "marker": request.headers.get(COUNTED_MARKER)})


ROUTES = ("/gradio_api/queue/join", "/gradio_api/call/search_text", "/gradio_api/run/search_text", "/gradio_api/mcp/")


@pytest.fixture
def fair_use() -> FairUse:
    return FairUse(per_minute=1, burst=2, trusted_proxies=1)


@pytest.fixture
def client(fair_use) -> TestClient:
    app = Starlette(
        routes=[Route(path, echo, methods=["GET", "POST"]) for path in (*ROUTES, "/gradio_api/upload")],
        middleware=[Middleware(FairUseLimit, fair_use=fair_use, body_limit=10_000)],
    )
    return TestClient(app)


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def tool_call(request_id: int = 7) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "search_text"}}


@pytest.mark.parametrize("route", ROUTES[:3])
def test_calls_past_the_budget_get_429_with_retry_after_and_a_message(client, route):
    for _ in range(2):
        assert client.post(route, json={"data": []}, headers=from_address("203.0.113.5")).status_code == 200
    refused = client.post(route, json={"data": []}, headers=from_address("203.0.113.5"))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {
        "detail": "Too many requests from your address: each client may make 1 calls a minute (up to 2 at once). "
        "Try again in 60 s."
    }
    assert client.post(route, json={"data": []}, headers=from_address("198.51.100.7")).status_code == 200


def test_an_mcp_tool_call_past_the_budget_is_the_tools_error_with_retry_after(client):
    for number in range(2):
        assert client.post("/gradio_api/mcp/", json=tool_call(number), headers=from_address("203.0.113.5")).is_success
    refused = client.post("/gradio_api/mcp/", json=tool_call(9), headers=from_address("203.0.113.5"))
    assert refused.status_code == 200 and refused.headers["retry-after"] == "60"
    answer = refused.json()
    assert answer["id"] == 9 and answer["result"]["isError"] is True
    assert answer["result"]["content"][0]["text"].startswith("Too many requests from your address")
    # The SSE transport answers its POSTs with 202 and the result on the stream: there a refusal is a 429.
    sse = client.post("/gradio_api/mcp/messages/", json=tool_call(), headers=from_address("203.0.113.5"))
    assert sse.status_code == 429


def test_mcp_discovery_uploads_and_reads_are_not_counted(client):
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for _ in range(5):
        assert client.post("/gradio_api/mcp/", json=listing, headers=from_address("203.0.113.5")).status_code == 200
        assert client.post("/gradio_api/upload", content=b"x", headers=from_address("203.0.113.5")).status_code == 200
        assert client.get("/gradio_api/call/search_text", headers=from_address("203.0.113.5")).status_code == 200
    assert client.post("/gradio_api/call/search_text", json={}, headers=from_address("203.0.113.5")).status_code == 200


def test_the_call_an_mcp_tool_makes_for_its_client_is_counted_once(client, fair_use):
    marked = {**from_address("203.0.113.5"), COUNTED_MARKER: fair_use.marker}
    for _ in range(5):
        assert client.post("/gradio_api/queue/join", json={}, headers=marked).status_code == 200
    forged = {**from_address("203.0.113.5"), COUNTED_MARKER: "guess"}
    codes = [client.post("/gradio_api/queue/join", json={}, headers=forged).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_calls_from_the_machine_itself_are_not_limited(fair_use):
    app = Starlette(
        routes=[Route("/gradio_api/call/search_text", echo, methods=["POST"])],
        middleware=[Middleware(FairUseLimit, fair_use=FairUse(1, 1), body_limit=10_000)],
    )
    local = TestClient(app, client=("127.0.0.1", 5000))
    assert {local.post("/gradio_api/call/search_text", json={}).status_code for _ in range(5)} == {200}
    remote = TestClient(app, client=("203.0.113.5", 5000))
    assert [remote.post("/gradio_api/call/search_text", json={}).status_code for _ in range(2)] == [200, 429]


def test_the_body_reaches_the_app_intact_after_the_mcp_check(client):
    body = json.dumps(tool_call()).encode()
    answer = client.post("/gradio_api/mcp/", content=body, headers=from_address("203.0.113.5")).json()
    assert answer["received"] == len(body)
