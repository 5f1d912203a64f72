"""Calls that give an endpoint too few arguments are refused with a message naming the endpoint and its arguments,
before Gradio reads them: Gradio answers them with an empty error (`{"error": null}`), which clients can only
show as a generic failure. (gradio_client fills in the defaults itself; this is for raw HTTP clients.)"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from ui.limits import ASGIApp, AsgiScope, Receive, Send, read_body, refuse, replay, too_large

# Routes whose body is {"data": [...]} for a named endpoint, and the page's route, whose body names the event.
NAMED_CALL = re.compile(r"/gradio_api/(?:call|run|api)/(?P<name>[^/]+)/?$")
QUEUE_JOIN = "/gradio_api/queue/join"


@dataclass(frozen=True)
class Signature:
    """What an event takes: its name for messages and its parameters in order."""

    name: str
    parameters: tuple[str, ...]

    def refusal(self, given: int) -> str | None:
        """The message for a call with `given` values, or None when that is enough."""
        if given >= len(self.parameters):
            return None
        return (
            f"{self.name} takes {len(self.parameters)} values in `data` ({', '.join(self.parameters)}); got {given}. "
            "Give every argument, in this order (gradio_client fills in the defaults)."
        )


def signatures(demo: gr.Blocks) -> tuple[dict[str, Signature], dict[int, Signature]]:
    """Every event of the demo by API name and by index."""
    by_name, by_index = {}, {}
    for index, fn in demo.fns.items():
        names = tuple(inspect.signature(fn.fn).parameters) if fn.fn is not None else ()
        if len(names) != len(fn.inputs):
            names = tuple(f"input {number}" for number in range(1, len(fn.inputs) + 1))
        api_name = fn.api_name if fn.api_visibility != "private" else None
        signature = Signature(f"/{api_name}" if api_name else "This event", names)
        by_index[index] = signature
        if api_name:
            by_name[api_name] = signature
    return by_name, by_index


class ArgumentCount:
    """Pure ASGI middleware: 422 with a message for a call of a known event with fewer values than it takes. It
    sits inside RequestLimits, so the bodies it reads are already bounded."""

    def __init__(self, app: ASGIApp, demo: gr.Blocks, body_limit: int) -> None:
        self.app = app
        self.demo = demo
        self.body_limit = body_limit
        self._signatures: tuple[dict[str, Signature], dict[int, Signature]] | None = None

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        lookup = self._lookup(path) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if lookup is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.body_limit)
        if body is None:
            await refuse(send, 413, too_large(self.body_limit, upload=False))
            return
        message = self._refusal(body, lookup)
        if message is not None:
            await refuse(send, 422, message)
            return
        await self.app(scope, replay(body), send)

    def _lookup(self, path: str) -> Callable[[dict], Signature | None] | None:
        """How to find the event a body calls on this route, or None for other routes."""
        if self._signatures is None:
            self._signatures = signatures(self.demo)
        by_name, by_index = self._signatures
        if path.endswith(QUEUE_JOIN):
            return lambda body: by_index.get(index) if isinstance(index := body.get("fn_index"), int) else None
        named = NAMED_CALL.search(path)
        if named is None:
            return None
        signature = by_name.get(named.group("name"))
        return lambda body: signature

    @staticmethod
    def _refusal(body: bytes, lookup: Callable[[dict], Signature | None]) -> str | None:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None  # Gradio explains malformed JSON itself
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return None
        signature = lookup(payload)
        return signature.refusal(len(payload["data"])) if signature is not None else None
