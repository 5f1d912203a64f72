"""The search endpoints as MCP tools for agents, on Gradio's built-in MCP server (`launch(mcp_server=True)`,
streamable HTTP at /gradio_api/mcp), which this module sets up when the app starts (`lifespan`):

- Stable tool names: the endpoint's own name (Gradio prefixes them with the Space's name, which changes with every
  copy of the Space). Only TOOLS are served: the page's handlers are private events, and `embed` /
  `search_embedding` trade in vectors of hundreds of numbers that an agent has no use for.
- Descriptions from ui/api_docs.py: purpose, arguments, the catalog's filter values, every field that comes back.
- Answers as structured content (and the same JSON as text): the client API's JSON, each photo as its URL.
- An image argument is an http(s) URL (public hosts only; this app's own photo URLs too) or a data URI; it is
  uploaded to the app as a client's upload is, so the same checks apply.
- Arguments go to the endpoint as given (no schema check in between), so bad ones get the client API's messages.
- Each call runs through the app's queue like any other client's (Gradio's loopback client), carrying the fair-use
  marker: the tool call itself was counted (ui.fair_use).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urljoin, urlparse

import gradio as gr
import httpx
import safehttpx
from anyio.to_thread import run_sync
from gradio import route_utils
from gradio_client import Client, handle_file
from gradio_client import utils as client_utils
from mcp import types

from search import MAX_IMAGE_BYTES, InvalidImageError, InvalidQueryError
from ui.api_docs import ARGUMENTS, describe_tool, output_schema
from ui.fair_use import COUNTED_MARKER, FairUse

# Tool name -> endpoint, in the order agents list them. The names are part of the public surface.
TOOLS = {
    "search_text": "/search_text",
    "search_image": "/search_image",
    "search_composed": "/search_composed",
    "more_like_this": "/more_like_this",
    "filter_choices": "/filter_choices",
}
IMAGE_ARGUMENT = "image"
FILE_ROUTE = "/gradio_api/file="
DATA_URI = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^,;]*)*?)(?P<base64>;base64)?,", re.I)
DOWNLOAD_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_REDIRECTS = 5
IMAGE_FORMS = "an http(s) URL of the photo or a data URI (data:image/jpeg;base64,...)"
# Request headers not passed on to the call the tool makes to the app.
DROPPED_HEADERS = {"content-length", "x-gradio-user", COUNTED_MARKER}


class SearchTools:
    """The MCP side of one running app: installs its tool list and tool call on the demo's Gradio MCP server."""

    def __init__(self, demo: gr.Blocks, fair_use: FairUse | None) -> None:
        self.demo = demo
        self.fair_use = fair_use
        self._client: Client | None = None
        self._client_lock = threading.Lock()
        self._choices: dict[str, list[str]] | None = None
        self._files = Path(tempfile.mkdtemp(prefix="fashion-search-mcp-"))

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """The app's start (before it answers any request) sets up the server; its end removes the temp files."""
        server = self.demo.mcp_server_obj
        if server is not None:
            self.install(server)
        try:
            yield
        finally:
            shutil.rmtree(self._files, ignore_errors=True)

    def install(self, server: Any) -> None:
        """Our tools on Gradio's server (a gradio.mcp.GradioMCPServer): names, list and call handlers."""
        self.server = server
        server.tool_prefix = ""
        server.tool_to_endpoint = dict(TOOLS)
        # The descriptions also of Gradio's /gradio_api/mcp/schema, which the Hugging Face Hub reads for Spaces.
        server.get_fn_description = lambda block_fn, tool: (describe_tool(tool, self.choices()), dict(ARGUMENTS))
        server.mcp_server.list_tools()(self.list_tools)
        server.mcp_server.call_tool(validate_input=False)(self.call_tool)

    async def list_tools(self) -> list[types.Tool]:
        """The tools (those of the request's `?tools=` selection, when it makes one)."""
        selected = self.server.get_selected_tools_from_request()
        choices = self.choices()
        return [
            types.Tool(
                name=name,
                description=describe_tool(name, choices),
                inputSchema=self.input_schema(name),
                outputSchema=output_schema(name),
            )
            for name in TOOLS
            if selected is None or name in selected
        ]

    def input_schema(self, name: str) -> dict[str, Any]:
        """Gradio's schema of the endpoint's arguments with ui.api_docs' descriptions; an image is a string (a
        URL or a data URI), not Gradio's file object."""
        schema, _ = self.server.get_input_schema(name, ARGUMENTS)
        if IMAGE_ARGUMENT in schema["properties"]:
            schema["properties"][IMAGE_ARGUMENT] = {"type": "string", "description": ARGUMENTS[IMAGE_ARGUMENT]}
        return schema

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run the tool's endpoint through the app's queue; its JSON answer with each photo as its URL. A failure
        is raised with its message, which the MCP server returns as the tool's error."""
        endpoint = TOOLS.get(name)
        if endpoint is None:
            raise InvalidQueryError(f"There is no tool named {name!r}; the tools are {', '.join(TOOLS)}.")
        request = self.server.mcp_server.request_context.request
        staged: list[Path] = []
        try:
            if IMAGE_ARGUMENT in arguments:
                path = await self.image_file(arguments[IMAGE_ARGUMENT], self.root_url(request))
                staged.append(path)
                arguments = {**arguments, IMAGE_ARGUMENT: handle_file(str(path))}
            parameters = self.server.api_info["named_endpoints"][endpoint]["parameters"]
            check_names(name, parameters, arguments)
            values = client_utils.construct_args(parameters, (), arguments)
            headers = {key: value for key, value in request.headers.items() if key.lower() not in DROPPED_HEADERS}
            if self.fair_use is not None:
                headers[COUNTED_MARKER] = self.fair_use.marker
            client = await run_sync(self.client)
            job = client.submit(*values, api_name=endpoint, headers=headers)
            answer = await run_sync(job.result)
        finally:
            for path in staged:
                path.unlink(missing_ok=True)
        return with_photo_urls(answer)

    def choices(self) -> dict[str, list[str]]:
        """The catalog's filter values, from the app's own filter_choices endpoint (called in process, once)."""
        if self._choices is None:
            self._choices = self.server.get_block_fn_from_endpoint_name(TOOLS["filter_choices"]).fn()
        return self._choices

    def client(self) -> Client:
        """The app's own client (made on the first call: it reads the app's API description over HTTP)."""
        with self._client_lock:
            if self._client is None:
                url = self.server.local_url
                self._client = Client(url, download_files=False, verbose=False, analytics_enabled=False)
            return self._client

    def root_url(self, request: Any) -> str:
        """The app's public URL as this request reached it (behind the Space's proxy: the Space's URL)."""
        route = self.server.get_route_path(request)
        return route_utils.get_root_url(request=request, route_path=route, root_path=self.server.root_path)

    async def image_file(self, value: object, root_url: str) -> Path:
        """An image argument as a file to upload: a data URI decoded, a URL downloaded (this app's own files from
        the app itself; other hosts only when public). The file's content is checked as an upload's is."""
        if not isinstance(value, str):
            raise InvalidImageError(f"The image must be {IMAGE_FORMS}, got {type(value).__name__}.")
        if value[:5].lower() == "data:":
            data = data_uri_bytes(value)
        elif urlparse(value).scheme.lower() in ("http", "https"):
            own = value.startswith(root_url + FILE_ROUTE)
            data = await (self.own_file(value[len(root_url) :]) if own else download(value))
        else:
            raise InvalidImageError(f"The image must be {IMAGE_FORMS}, got {shown(value)}.")
        path = self._files / uuid.uuid4().hex
        path.write_bytes(data)
        return path

    async def own_file(self, route: str) -> bytes:
        """A file this app serves (e.g. a result's photo), read from the app itself."""
        async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT) as http:
            return await bounded_get(http, self.server.local_url.rstrip("/") + route, route)


def check_names(tool: str, parameters: list[dict[str, Any]], arguments: dict[str, Any]) -> None:
    """Refuse an argument the tool does not take, or a missing one it needs, naming the tool's arguments."""
    names = [parameter["parameter_name"] for parameter in parameters]
    unknown = [argument for argument in arguments if argument not in names]
    if unknown:
        raise InvalidQueryError(f"{tool} has no argument {shown(unknown[0])}; its arguments are {', '.join(names)}.")
    needed = [p["parameter_name"] for p in parameters if not p.get("parameter_has_default", False)]
    missing = [argument for argument in needed if argument not in arguments]
    if missing:
        raise InvalidQueryError(f"{tool} needs the argument {missing[0]!r}: {ARGUMENTS[missing[0]]}")


def with_photo_urls(answer: Any) -> Any:
    """The client API's answer with each result's photo (a Gradio file object) given as its URL."""
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        return answer
    results = [
        {**result, "image": result["image"].get("url")} if isinstance(result.get("image"), dict) else result
        for result in answer["results"]
    ]
    return {**answer, "results": results}


def data_uri_bytes(uri: str) -> bytes:
    """The bytes of a data URI (base64 or percent-encoded), refused when malformed or over MAX_IMAGE_BYTES."""
    match = DATA_URI.match(uri)
    if match is None:
        raise InvalidImageError(f"This data URI is malformed: {shown(uri)}; expected data:image/jpeg;base64,....")
    payload = uri[match.end() :]
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        raise InvalidImageError(f"The image is too large: at most {MAX_IMAGE_BYTES // 2**20} MB are accepted.")
    if not match.group("base64"):
        return unquote_to_bytes(payload)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidImageError(f"The data URI's base64 cannot be decoded ({error}).") from error


async def download(url: str) -> bytes:
    """A public URL's content, at most MAX_IMAGE_BYTES: every host (redirects included) is resolved and must be a
    public address (no server-side requests into the Space's own network), and the connection goes to that
    verified address."""
    for _ in range(MAX_REDIRECTS + 1):
        host = urlparse(url).hostname
        if not host:
            raise InvalidImageError(f"The image URL has no host: {shown(url)}.")
        try:
            address = await safehttpx.async_validate_url(host)
        except ValueError as error:
            raise InvalidImageError(
                f"The image URL's host {host!r} cannot be used: {error}. Give the URL of a photo on a public web "
                "server, or the image as a data URI."
            ) from error
        transport = safehttpx.AsyncSecureTransport(address)
        async with (
            httpx.AsyncClient(transport=transport, timeout=DOWNLOAD_TIMEOUT) as http,
            http.stream("GET", url, follow_redirects=False) as response,
        ):
            if response.has_redirect_location:
                url = urljoin(url, response.headers["location"])
                continue
            return await read_image_response(response, url)
    raise InvalidImageError(f"The image URL redirects more than {MAX_REDIRECTS} times: {shown(url)}.")


async def bounded_get(http: httpx.AsyncClient, url: str, shown_as: str) -> bytes:
    async with http.stream("GET", url) as response:
        return await read_image_response(response, shown_as)


async def read_image_response(response: httpx.Response, url: str) -> bytes:
    """The body of a 200 answer, refused past MAX_IMAGE_BYTES (declared or streamed) without reading the rest."""
    if response.status_code != 200:
        raise InvalidImageError(f"The image URL answered HTTP {response.status_code}: {shown(url)}.")
    declared = response.headers.get("content-length")
    too_large = f"The image at {shown(url)} is too large: at most {MAX_IMAGE_BYTES // 2**20} MB are accepted."
    if declared and declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
        raise InvalidImageError(too_large)
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_IMAGE_BYTES:
            raise InvalidImageError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def shown(text: str, limit: int = 80) -> str:
    """A client's text quoted in a message, cut to `limit` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
