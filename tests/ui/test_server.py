"""Server operations without a server: the sweep of expired request files and the cap on glibc's malloc arenas."""

import os
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import pytest

from tests.helpers import REPO
from ui.server import UploadSweeper
from ui.settings import MALLOC_ARENAS


@pytest.fixture
def demo() -> gr.Blocks:
    """Blocks with one image component, as Gradio leaves them after requests: files in its temp file sets."""
    with gr.Blocks() as blocks:
        gr.Image()
    return blocks


def request_file(demo: gr.Blocks, folder: Path, name: str) -> str:
    path = folder / name
    path.write_bytes(b"photo")
    demo.temp_file_sets.append({str(path)})
    return str(path)


def tracked(demo: gr.Blocks) -> set[str]:
    return set().union(*demo.temp_file_sets)


def test_files_younger_than_the_age_are_kept(demo, tmp_path):
    path = request_file(demo, tmp_path, "fresh.png")
    assert UploadSweeper(demo, every=60, age=3600).sweep() == 0
    assert Path(path).is_file() and path in tracked(demo)


def test_expired_files_are_deleted_and_forgotten_except_those_kept_in_cache(demo, tmp_path):
    expired = request_file(demo, tmp_path, "expired.png")
    example = request_file(demo, tmp_path, "example.png")
    next(iter(demo.blocks.values())).keep_in_cache = {example}
    time.sleep(0.01)
    assert UploadSweeper(demo, every=60, age=0).sweep() == 1
    assert not Path(expired).exists() and Path(example).is_file()
    assert tracked(demo) == {example}


def test_files_already_gone_are_forgotten_without_an_error(demo, tmp_path):
    gone = request_file(demo, tmp_path, "gone.png")
    os.remove(gone)
    assert UploadSweeper(demo, every=60, age=0).sweep() == 0
    assert gone not in tracked(demo)


ARENA_PROBE = """
import ctypes, sys, threading
import numpy as np
from ui.server import limit_malloc_arenas
print(limit_malloc_arenas() if sys.argv[1] == "limit" else "not limited", flush=True)
def allocate():
    kept = [np.ones(8000) for _ in range(200)]
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas_used(mode: str) -> int:
    """Run the probe in a fresh process; glibc's malloc_stats() lists one "Arena N" per malloc arena."""
    environment = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    run = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE, mode], cwd=REPO, env=environment, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ("True" if mode == "limit" else "not limited")
    return sum(line.startswith("Arena ") for line in run.stderr.splitlines())


def test_malloc_arenas_are_capped_for_the_server_threads():
    """8 allocating threads get arenas of their own unless the app caps them, as app.main does."""
    assert arenas_used("default") > MALLOC_ARENAS
    assert 1 <= arenas_used("limit") <= MALLOC_ARENAS
