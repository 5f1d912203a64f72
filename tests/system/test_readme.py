"""The README runs as written: every ```bash and ```python block of README.md, in order, on a copy of the repository,
offline, against the demo catalog; and its client API section lists exactly the running app's endpoints, their
arguments and defaults, and the fields of its answers.

The convention (README.md, "About the examples"): blocks run in order from the repository root inside the set-up
environment (.venv/bin first on PATH, as if activated), with HF_HUB_OFFLINE=1 and no SEARCH_INDEX; a block opened
with ```bash server starts something that keeps running (the app): it is started in the background, waited for
until it answers, and stopped after the last block. `127.0.0.1:7860` in any block is the address of the app the
test started (on a free port, given to it as GRADIO_SERVER_PORT).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests.helpers import ENDPOINTS, REPO, free_port
from ui import build_demo, launch

pytestmark = pytest.mark.system

README = REPO / "README.md"
BLOCK = re.compile(r"^```(bash|python)( server)?\n(.*?)^```$", re.DOTALL | re.MULTILINE)
ADDRESS = "127.0.0.1:7860"
BLOCK_TIMEOUT_S = 900
SERVER_START_S = 600
# Not copied: version control, outputs, caches; the environment is linked in (below).
NOT_COPIED = shutil.ignore_patterns(".git", "build", ".venv", "__pycache__", ".*_cache", "*.egg-info")


@dataclass(frozen=True)
class Block:
    language: str
    server: bool
    code: str
    line: int

    def __str__(self) -> str:
        return f"README.md line {self.line} (```{self.language}{' server' if self.server else ''})"


def readme_blocks(text: str) -> list[Block]:
    """The README's bash and python blocks in order, with the line each starts on."""
    return [
        Block(match[1], bool(match[2]), match[3], text.count("\n", 0, match.start()) + 1)
        for match in BLOCK.finditer(text)
    ]


def environment_copy(target: Path) -> Path:
    """A .venv in `target` that is the set-up environment (its folders linked) with a fresh set-up stamp, so that
    `make` there sees the environment as set up and never reinstalls into the shared one."""
    venv = (REPO / ".venv").resolve()
    target.mkdir()
    for entry in venv.iterdir():
        if entry.name != ".installed":
            (target / entry.name).symlink_to(entry)
    (target / ".installed").touch()
    return target


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the working tree (as a fresh clone would have it) with the set-up environment."""
    folder = Path(shutil.copytree(REPO, tmp_path_factory.mktemp("readme") / "repo", ignore=NOT_COPIED))
    environment_copy(folder / ".venv")
    return folder


def block_env(checkout: Path, port: int, cache: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("SEARCH_", "GRADIO_"))}
    env.update(
        PATH=f"{checkout / '.venv' / 'bin'}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(checkout / ".venv"),
        HF_HUB_OFFLINE="1",
        SEARCH_CACHE_DIR=str(cache),
        GRADIO_SERVER_PORT=str(port),
    )
    return env


def command(block: Block, port: int) -> list[str]:
    code = block.code.replace(ADDRESS, f"127.0.0.1:{port}")
    return ["bash", "-euo", "pipefail", "-c", code] if block.language == "bash" else ["python", "-c", code]


def wait_until_up(url: str, server: subprocess.Popen, block: Block) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{block} exited with {server.returncode} instead of serving:\n{server.stdout.read()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(1)
    pytest.fail(f"{block} did not answer at {url} within {SERVER_START_S} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_readme_has_runnable_blocks_and_starts_the_app_first():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5 and blocks[0].server, "the first example starts the app the client examples talk to"
    assert {block.language for block in blocks} == {"bash", "python"}


def test_every_block_runs_as_written(checkout, tmp_path):
    blocks = readme_blocks((checkout / "README.md").read_text(encoding="utf-8"))
    port = free_port()
    env = block_env(checkout, port, tmp_path / "cache")
    servers: list[subprocess.Popen] = []
    try:
        for block in blocks:
            run = command(block, port)
            if block.server:
                server = subprocess.Popen(
                    run,
                    cwd=checkout,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
                servers.append(server)
                wait_until_up(f"http://127.0.0.1:{port}/", server, block)
                continue
            done = subprocess.run(run, cwd=checkout, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
            output = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            assert done.returncode == 0, f"{block} failed with exit code {done.returncode}:\n{output}"
    finally:
        for server in servers:
            stop(server)


# --- the client API section against the running app -------------------------------------------------------------

ENDPOINT_ROW = re.compile(r"^\| `(/\w+)` \| (.*?) \|", re.MULTILINE)
ARGUMENT = re.compile(r"`(\w+)`(?: \(([^)]*)\))?")
FIELD_ROW = re.compile(r"^\| `([\w\[\]\.]+)` \|", re.MULTILINE)


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    end = text.find("\n#", start + 1)
    return text[start : end if end > 0 else None]


def readme_endpoints() -> dict[str, list[tuple[str, str]]]:
    """Endpoint → its arguments in order, each with the default the README gives ("" for a required one)."""
    return {name: ARGUMENT.findall(cell) for name, cell in ENDPOINT_ROW.findall(readme_section("Endpoints"))}


def readme_fields(title: str) -> set[str]:
    return set(FIELD_ROW.findall(readme_section(title)))


def shown_default(value: object) -> str:
    """A default as the README writes it: none, true, false, 24, 0.5."""
    if value is None or isinstance(value, bool):
        return {None: "none", True: "true", False: "false"}[value]
    return f"{value:g}" if isinstance(value, float) else str(value)


@pytest.fixture(scope="module")
def demo_app(demo_engine):
    demo = build_demo(demo_engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    yield url
    demo.close()


def test_the_readme_lists_every_endpoint_argument_and_default_of_the_app(demo_app):
    api = Client(demo_app, verbose=False).view_api(return_format="dict", print_info=False)
    served = {
        name: [
            (p["parameter_name"], shown_default(p["parameter_default"]) if p["parameter_has_default"] else "")
            for p in endpoint["parameters"]
        ]
        for name, endpoint in api["named_endpoints"].items()
    }
    assert set(served) == ENDPOINTS
    assert readme_endpoints() == served


def answer_fields(answer: dict) -> set[str]:
    fields = set(answer)
    for result in answer.get("results", []):
        fields |= {f"results[].{name}" for name in result}
    return fields


def test_the_readme_lists_every_field_of_the_answers(demo_app, demo_engine):
    client = Client(demo_app, verbose=False, download_files=False)
    photo = handle_file(str(REPO / "assets" / "demo" / "photos" / "shirt.jpg"))
    product = int(demo_engine.products.ids[0])
    answers = [
        client.predict("black shoes", api_name="/search_text"),
        client.predict(photo, api_name="/search_image"),
        client.predict(photo, "in red", api_name="/search_composed"),
        client.predict(product, api_name="/more_like_this"),
    ]
    embedding = client.predict(text="black shoes", api_name="/embed")
    answers.append(client.predict(embedding["embedding"], api_name="/search_embedding"))
    for answer in answers:
        assert answer_fields(answer) == readme_fields("Search answers")
    assert set(embedding) == readme_fields("Embeddings")
