"""The README's clients run as written against the running app (offline, the README's address replaced by the
app's, from the repository root): the gradio_client blocks, the JavaScript block in Node with @gradio/client
installed from the npm registry here, the curl block, and each MCP host configuration (streamable HTTP hosts with
the official `mcp` client; Claude Desktop's command through the mcp-remote bridge from npm)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.helpers import REPO, with_session

pytestmark = pytest.mark.system

README_URL = "http://127.0.0.1:7860/"
# Versions the test installs (the README installs the latest).
NPM_PACKAGES = ("@gradio/client@2.7.0", "mcp-remote@0.15.1")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks(language: str, containing: str = "") -> list[str]:
    """The README's code blocks of `language` that contain `containing`."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [body for kind, body in FENCE.findall(text) if kind == language and containing in body]


def python_clients() -> list[str]:
    return readme_blocks("python", "from gradio_client import")


@pytest.fixture(scope="module")
def npm_folder(tmp_path_factory) -> Path:
    """A folder with the JavaScript client and the MCP bridge installed from the npm registry."""
    folder = tmp_path_factory.mktemp("npm")
    (folder / "package.json").write_text('{"name": "readme-clients", "private": true, "type": "module"}')
    npm = shutil.which("npm")
    assert npm, "npm (Node.js) is needed to run the README's JavaScript client"
    subprocess.run([npm, "install", "--no-audit", "--no-fund", *NPM_PACKAGES], cwd=folder, check=True, timeout=600)
    return folder


def run(command: list[str], timeout: float = 300) -> str:
    """Run a README example from the repository root (its photo paths are relative to it); its output."""
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_the_readme_shows_every_client():
    assert len(python_clients()) >= 2 and len(readme_blocks("js")) == 1
    assert len(readme_blocks("bash", "/gradio_api/call/")) == 1 and len(mcp_servers()) == 3


def test_python_blocks(app_url):
    for block in python_clients():
        run([sys.executable, "-c", block.replace(README_URL, app_url)])


def test_javascript_block(app_url, npm_folder):
    script = npm_folder / "readme.mjs"
    script.write_text(readme_blocks("js")[0].replace(README_URL, app_url))
    output = run([shutil.which("node") or "node", str(script)])
    assert "/gradio_api/file=" in output  # photo URLs printed
    assert "No product has baseColour 'Purpel'. Known values:" in output


def test_curl_block(app_url):
    block = readme_blocks("bash", "/gradio_api/call/")[0]
    output = run(["bash", "-euo", "pipefail", "-c", block.replace(README_URL, app_url)])
    answers = [line[len("data: ") :] for line in output.splitlines() if line.startswith("data: ")]
    assert output.count("event: complete") == 2 and "event: error" not in output
    assert [len(json.loads(answer)[0]["results"]) for answer in answers] == [5, 5]


def mcp_servers() -> list[dict]:
    """The MCP servers of the README's host configurations (`mcpServers`, or VS Code's `servers`)."""
    servers = []
    for block in readme_blocks("json"):
        config = json.loads(block)
        servers += (config.get("mcpServers") or config.get("servers") or {}).values()
    return servers


def test_mcp_hosts_speaking_streamable_http(app_url):
    urls = [server["url"] for server in mcp_servers() if "url" in server]
    assert len(urls) == 2
    for url in urls:
        base = url.replace(README_URL, app_url).removesuffix("gradio_api/mcp/")
        answer = with_session(base, lambda session: session.call_tool("search_text", {"text": "red shirt", "k": 3}))
        assert not answer.isError and len(answer.structuredContent["results"]) == 3


def test_claude_desktop_through_the_mcp_remote_bridge(app_url, npm_folder):
    (server,) = [server for server in mcp_servers() if "command" in server]
    assert server["command"] == "npx" and server["args"][:2] == ["-y", "mcp-remote"]
    bridge = npm_folder / "node_modules" / ".bin" / "mcp-remote"  # what `npx -y mcp-remote` runs
    arguments = [argument.replace(README_URL, app_url) for argument in server["args"][2:]]
    environment = {**os.environ, "PATH": f"{Path(shutil.which('node') or 'node').parent}:{os.environ['PATH']}"}

    async def session() -> tuple[list[str], dict]:
        parameters = StdioServerParameters(command=str(bridge), args=arguments, env=environment)
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as mcp:
            await mcp.initialize()
            tools = [tool.name for tool in (await mcp.list_tools()).tools]
            answer = await mcp.call_tool("filter_choices", {})
            return tools, answer.structuredContent

    tools, choices = asyncio.run(session())
    assert tools == ["search_text", "search_image", "search_composed", "more_like_this", "filter_choices"]
    assert "gender" in choices
