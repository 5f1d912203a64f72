"""Request limits in front of Gradio: body size for every route (JSON calls included), a disk budget for uploads,
and `X-Content-Type-Options: nosniff` on served files.

Gradio limits only the size of each uploaded file (`max_file_size`); a JSON call of any size is read, parsed and
handed to the search, and uploads may fill the disk. This ASGI middleware refuses such requests before Gradio
reads them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope  # the ASGI connection scope, not search.Scope

logger = logging.getLogger(__name__)


UPLOAD_ROUTE = "/upload"
FILE_ROUTE = "/file="
# An upload request carries one photo plus the multipart framing around it.
MULTIPART_OVERHEAD = 64 * 1024


class UploadBudget:
    """The disk space uploads may take, all files in the upload folder together.

    Space is reserved for an upload while it is being received (its declared size), so concurrent uploads cannot
    overshoot the budget together; the folder's size is measured at most once a second.
    """

    def __init__(self, folder: Path, limit: int, measure_every: float = 1.0) -> None:
        self.folder = Path(folder)
        self.limit = limit
        self.measure_every = measure_every
        self._lock = threading.Lock()
        self._reserved = 0
        self._measured = 0
        self._measured_at = -float("inf")

    def used(self) -> int:
        """Bytes of the files in the upload folder now (re-measured when the last measure is stale)."""
        if time.monotonic() - self._measured_at >= self.measure_every:
            self._measured = folder_size(self.folder)
            self._measured_at = time.monotonic()
        return self._measured

    def reserve(self, size: int) -> bool:
        """Reserve `size` bytes for an incoming upload; False when that would exceed the budget."""
        used = self.used()
        with self._lock:
            if used + self._reserved + size > self.limit:
                return False
            self._reserved += size
            return True

    def release(self, size: int) -> None:
        """The upload is on disk (or failed): its reservation ends and the next measure sees the file."""
        with self._lock:
            self._reserved -= size
        self._measured_at = -float("inf")


def folder_size(folder: Path) -> int:
    """Total size of the regular files under `folder` (0 when it does not exist); files vanishing meanwhile are
    skipped (the sweep deletes while this counts)."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total


class RequestLimits:
    """Pure ASGI middleware: 413 for a body over its route's limit (declared or streamed), 507 when an upload
    would exceed the disk budget, and nosniff on served files and upload answers."""

    def __init__(
        self,
        app: ASGIApp,
        body_limit: int,
        upload_limit: int,
        budget: UploadBudget | None = None,
        route_limits: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit
        self.budget = budget
        self.route_limits = route_limits

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        upload = path.endswith(UPLOAD_ROUTE)
        if upload or FILE_ROUTE in path:
            send = with_nosniff(send)
        limit = self.upload_limit if upload else self.route_limit(path)
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await refuse(send, 413, too_large(limit, upload))
            return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await read_body(receive, limit)
            if body is None:
                await refuse(send, 413, too_large(limit, upload))
                return
            receive, declared = replay(body), len(body)
        if not upload or self.budget is None:
            await self.app(scope, receive, send)
            return
        size = declared or 0
        if not await anyio.to_thread.run_sync(self.budget.reserve, size):
            logger.warning("Upload refused: the upload folder is at its budget of %d bytes", self.budget.limit)
            await refuse(send, 507, "The server's space for uploaded photos is full. Try again in a few minutes.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.budget.release(size)

    def route_limit(self, path: str) -> int:
        """The body limit of a route other than the upload route: the first matching `route_limits` entry's, else
        `body_limit`."""
        return next((limit for route, limit in self.route_limits if route.search(path)), self.body_limit)


def content_length(scope: AsgiScope) -> int | None:
    """The declared body size, or None when the request does not declare one (e.g. chunked)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body of a request without a declared size, or None as soon as it exceeds `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A receive callable that gives the app a body already read, then waits like a live connection."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    return receive


def with_nosniff(send: Send) -> Send:
    """Add `X-Content-Type-Options: nosniff` to the response, so a browser never runs a served file as something
    other than its declared type."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [item for item in message.get("headers", []) if item[0].lower() != b"x-content-type-options"]
            message["headers"] = [*headers, (b"x-content-type-options", b"nosniff")]
        await send(message)

    return wrapped


def too_large(limit: int, upload: bool) -> str:
    what = "An upload" if upload else "A request"
    return f"{what} body is too large: at most {limit / 2**20:.1f} MB are accepted."


async def refuse(send: Send, status: int, message: str, extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer with a JSON `{"detail": message}` (and `extra_headers`) and close, without reading the body."""
    body = json.dumps({"detail": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
