"""`python app.py` itself in a child process: it serves the bundle given with --index, and without an index and
offline it serves the demo at once, saying so on the page and, with one warning, in a quiet log."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.helpers import REPO, free_port

pytestmark = pytest.mark.system


def run_app(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python app.py ...` in a child process, offline, its output going to `log`."""
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), *args],
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"app.py did not serve {url} within {timeout} s:\n{log.read_text()}")


def test_app_without_index_offline_serves_the_demo_and_says_so(tmp_path):
    port, log = free_port(), tmp_path / "app.log"
    env = {"SEARCH_CACHE_DIR": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf"), "SEARCH_INDEX": ""}
    process = run_app("--port", str(port), env=env, log=log)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(process, url, log)
        assert "580-product demo" in httpx.get(url, timeout=30).text, "the page says it is the demo"
        payload = Client(url, verbose=False, download_files=False).predict("black shoes", k=3, api_name="/search_text")
        assert len(payload["results"]) == 3
    finally:
        process.terminate()
        process.wait(timeout=60)
    output = log.read_text()
    assert "Traceback" not in output and output.count("Serving the demo catalog instead") == 1
    assert "This is the 580-product demo" in output and "SEARCH_INDEX" in output, "the log says how to load more"
    assert "onnx_ir" not in output and "DEBUG" not in output and "Retrying" not in output, "a quiet log"


def test_app_serves_the_bundle_given_with_index(bundle_dir, tmp_path):
    port, log = free_port(), tmp_path / "app.log"
    process = run_app("--index", str(bundle_dir), "--port", str(port), env={}, log=log)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(process, url, log)
        payload = Client(url, verbose=False, download_files=False).predict("red shirt", k=3, api_name="/search_text")
        assert len(payload["results"]) == 3
    finally:
        process.terminate()
        process.wait(timeout=60)
