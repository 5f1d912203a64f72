"""Fair use per client: a token bucket per client address on the calls that run the app's functions (the client
API, the page's events and MCP tool calls), so one client sending thousands of requests cannot push every other
visitor's wait up. Past its budget a client gets HTTP 429 with `Retry-After` and a message saying when to retry.

The client is the address the Space's proxy reports: with `trusted_proxies` = N (1 on a Hugging Face Space) it is
the N-th address from the right of `X-Forwarded-For` (the one the outermost trusted proxy saw; whatever a client
writes to the left of it is ignored), else the connection's peer (as uvicorn reports it: it honours
`X-Forwarded-For` only from a proxy on the same machine). Calls from the machine itself are never limited.
IPv6 clients are counted per /64 network, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ui.calls import NAMED_CALL, QUEUE_JOIN
from ui.limits import ASGIApp, AsgiScope, Receive, Send, read_body, refuse, replay, too_large

logger = logging.getLogger(__name__)

# The MCP endpoint (streamable HTTP, and the messages route of the SSE transport).
MCP_ROUTE = re.compile(r"/gradio_api/mcp(?:/http|/messages)?/?$")
COUNTED_MARKER = "x-fair-use-counted"  # set by the app's own MCP loopback on the call it already counted
LOOPBACK = "loopback"


@dataclass(frozen=True)
class FairUse:
    """The budget of each client: `burst` calls at once, refilled at `per_minute` calls a minute; `trusted_proxies`
    is the number of proxies in front of the app that append to X-Forwarded-For. `marker` is this process's secret
    that the app's own MCP tool calls carry to the call they make to the app, which is counted once, as a tool
    call."""

    per_minute: float
    burst: int
    trusted_proxies: int = 0
    marker: str = field(default_factory=lambda: secrets.token_hex(16), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_minute) and self.per_minute > 0):
            raise ValueError(f"The rate must be a positive number of calls a minute, got {self.per_minute}.")
        if self.burst < 1:
            raise ValueError(f"The burst must be at least 1 call, got {self.burst}.")
        if self.trusted_proxies < 0:
            raise ValueError(f"The number of trusted proxies cannot be negative, got {self.trusted_proxies}.")

    def refusal(self, wait: float) -> str:
        """What a client past its budget reads."""
        return (
            f"Too many requests from your address: each client may make {self.per_minute:g} calls a minute "
            f"(up to {self.burst} at once). Try again in {retry_after(wait)} s."
        )


class TokenBucket:
    """`capacity` tokens, refilled at `rate` tokens a second; a call takes one."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: int, rate: float, now: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.tokens, self.updated = float(capacity), now

    def take(self, now: float) -> float:
        """Take a token: 0 when granted, else the seconds until one is there (nothing is taken then)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class ClientBudgets:
    """A token bucket per client, at most `max_clients` of them: the least recently seen client is forgotten first
    (it then starts again with a full bucket), so memory stays bounded however many addresses call."""

    def __init__(self, fair_use: FairUse, max_clients: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self.fair_use = fair_use
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, client: str) -> float:
        """A call by `client`: 0 when within its budget, else the seconds it has to wait."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = TokenBucket(self.fair_use.burst, self.fair_use.per_minute / 60, now)
            self._buckets[client] = bucket
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)


def default_trusted_proxies() -> int:
    """1 on a Hugging Face Space (its proxy appends the client's address to X-Forwarded-For), else 0."""
    return 1 if os.environ.get("SPACE_ID") else 0


def retry_after(wait: float) -> int:
    """Whole seconds for the Retry-After header: never 0, so a client that waits that long gets a token."""
    return max(1, math.ceil(wait))


def header(scope: AsgiScope, name: bytes) -> str | None:
    """The value of a request header (the first when repeated), or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def client_address(scope: AsgiScope, trusted_proxies: int) -> str:
    """The client's address for its budget (see the module docstring): an IPv4 address, an IPv6 /64 network,
    LOOPBACK for the machine itself, or the raw text when it is no address."""
    forwarded = header(scope, b"x-forwarded-for") if trusted_proxies else None
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()] if forwarded else []
    if hops:
        address = hops[-min(trusted_proxies, len(hops))]
    else:
        client = scope.get("client")
        address = client[0] if client else ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.is_loopback:
        return LOOPBACK
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def mcp_tool_calls(body: bytes) -> list[dict]:
    """The tool calls among the JSON-RPC messages of a body sent to the MCP endpoint (a batch may hold several)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    messages = payload if isinstance(payload, list) else [payload]
    return [message for message in messages if isinstance(message, dict) and message.get("method") == "tools/call"]


def tool_error(request_id: object, message: str) -> bytes:
    """A JSON-RPC answer to a tool call: the tool's error, with `message` for the agent to read."""
    result = {"content": [{"type": "text", "text": message}], "isError": True}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode()


class FairUseLimit:
    """Pure ASGI middleware: a call past its client's budget is refused before Gradio reads it, with Retry-After.

    Counted: every POST that runs a function (`/queue/join`, used by the page and gradio_client; `/call/<name>`,
    `/run/<name>`, `/api/<name>`, used by REST clients) and every MCP `tools/call`. Not counted: MCP discovery
    (initialize, tools/list), uploads, downloads, result streams and the call an MCP tool makes to the app on its
    client's behalf (it carries this process's secret marker; the tool call was counted). It sits inside
    RequestLimits, so the MCP bodies it reads are already bounded.

    The refusal is HTTP 429 with the message as JSON `{"detail": ...}`; except for a single tool call over MCP's
    streamable HTTP, which is answered as the tool's error (HTTP 200, the same message and Retry-After): MCP
    clients end the whole session on an HTTP error, so the agent would never read why.
    """

    def __init__(self, app: ASGIApp, fair_use: FairUse, body_limit: int, budgets: ClientBudgets | None = None):
        self.app = app
        self.fair_use = fair_use
        self.body_limit = body_limit
        self.budgets = budgets or ClientBudgets(fair_use)

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        tool_calls: list[dict] = []
        if path.endswith(QUEUE_JOIN) or NAMED_CALL.search(path):
            calls = 0 if header(scope, COUNTED_MARKER.encode()) == self.fair_use.marker else 1
        elif MCP_ROUTE.search(path):
            body = await read_body(receive, self.body_limit)
            if body is None:
                await refuse(send, 413, too_large(self.body_limit, upload=False))
                return
            receive = replay(body)
            tool_calls = mcp_tool_calls(body)
            calls = len(tool_calls)
        else:
            calls = 0
        client = client_address(scope, self.fair_use.trusted_proxies) if calls else LOOPBACK
        wait = max(self.budgets.take(client) for _ in range(calls)) if client != LOOPBACK else 0.0
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        logger.info("Fair use: %s refused for %s (retry in %.1f s)", path, client, wait)
        message = self.fair_use.refusal(wait)
        retry = [(b"retry-after", str(retry_after(wait)).encode())]
        if len(tool_calls) == 1 and "id" in tool_calls[0] and not path.rstrip("/").endswith("/messages"):
            await answer(send, 200, tool_error(tool_calls[0]["id"], message), retry)
        else:
            await refuse(send, 429, message, retry)


async def answer(send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]]) -> None:
    """A JSON answer with `extra_headers`."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
