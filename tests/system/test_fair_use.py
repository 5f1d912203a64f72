"""Fair use per client on the real app behind a (simulated) Space proxy: each client address gets its budget through
gradio_client, REST calls and MCP tools alike; past it, 429 with Retry-After and the message, other clients
unaffected; an MCP tool call is counted once."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

from tests.helpers import free_port, with_session
from ui import build_demo, launch
from ui.fair_use import FairUse

pytestmark = pytest.mark.system

BURST = 3
MESSAGE = "Too many requests from your address: each client may make 2 calls a minute (up to 3 at once)."


@pytest.fixture(scope="module")
def proxied_url(engine):
    """The app as on a Space: one trusted proxy reports each client's address in X-Forwarded-For."""
    demo = build_demo(engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False, fair_use=FairUse(2, BURST, trusted_proxies=1))
    yield url
    demo.close()


def behind_proxy(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


@pytest.fixture(scope="module")
def body(proxied_url) -> dict:
    """A REST call of /search_text: every argument at its default but the text and k."""
    api = Client(proxied_url, verbose=False, headers=behind_proxy("203.0.113.99")).view_api(
        print_info=False, return_format="dict"
    )
    given = {"text": "shirt", "k": 2}
    parameters = api["named_endpoints"]["/search_text"]["parameters"]
    return {"data": [given.get(p["parameter_name"], p.get("parameter_default")) for p in parameters]}


def test_a_gradio_client_past_its_budget_gets_429_with_retry_after(proxied_url):
    client = Client(proxied_url, verbose=False, headers=behind_proxy("203.0.113.10"))
    for _ in range(BURST):
        assert client.predict("shirt", 2, api_name="/search_text")["results"]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        client.predict("shirt", 2, api_name="/search_text")
    response = refused.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert response.json()["detail"].startswith(MESSAGE)
    other = Client(proxied_url, verbose=False, headers=behind_proxy("203.0.113.11"))
    assert other.predict("shirt", 2, api_name="/search_text")["results"]


def test_rest_calls_share_the_budget_of_their_address(proxied_url, body):
    codes = [
        httpx.post(proxied_url + "gradio_api/call/search_text", json=body, headers=behind_proxy("203.0.113.20"))
        for _ in range(BURST + 1)
    ]
    assert [answer.status_code for answer in codes] == [200] * BURST + [429]
    assert codes[-1].json()["detail"].startswith(MESSAGE) and "Retry-After" in codes[-1].headers


def test_an_mcp_tool_call_counts_once_and_past_the_budget_says_why(proxied_url):
    async def calls(session):
        await session.list_tools()  # discovery is not counted
        return [await session.call_tool("search_text", {"text": "shirt", "k": 2}) for _ in range(BURST + 1)]

    results = with_session(proxied_url, calls, headers=behind_proxy("203.0.113.30"))
    assert [result.isError for result in results] == [False] * BURST + [True]
    assert results[-1].content[0].text.startswith(MESSAGE)


def test_a_forwarded_address_is_not_taken_from_the_client(proxied_url, body):
    """A client writing its own X-Forwarded-For in front of the proxy's entry stays the address the proxy saw."""
    codes = [
        httpx.post(
            proxied_url + "gradio_api/call/search_text",
            json=body,
            headers=behind_proxy(f"10.9.9.{number}, 203.0.113.40"),
        ).status_code
        for number in range(BURST + 1)
    ]
    assert codes == [200] * BURST + [429]
