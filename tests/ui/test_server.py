"""Server operations without a server: the sweep of expired request files and the cap on glibc's malloc arenas."""

import os
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import pytest

from tests.helpers import REPO
from ui.server import UploadSweeper, upload_sweep
from ui.settings import MALLOC_ARENAS


@pytest.fixture
def demo() -> gr.Blocks:
    """Blocks with one image component, as Gradio leaves them after requests: files in its temp file sets."""
    with gr.Blocks() as blocks:
        gr.Image()
    return blocks


def upload(demo: gr.Blocks, folder: Path, name: str) -> str:
    """A file as Gradio's upload route leaves it: on disk and in the demo's upload set."""
    path = folder / name
    path.write_bytes(b"photo")
    demo.upload_file_set.add(str(path))
    return str(path)


def test_uploads_younger_than_the_age_are_kept(demo, tmp_path):
    path = upload(demo, tmp_path, "fresh.png")
    assert UploadSweeper(demo, every=60, age=3600).sweep() == 0
    assert Path(path).is_file() and path in demo.upload_file_set


def test_expired_uploads_are_deleted_and_forgotten(demo, tmp_path):
    expired = upload(demo, tmp_path, "expired.png")
    time.sleep(0.01)
    assert UploadSweeper(demo, every=60, age=0).sweep() == 1
    assert not Path(expired).exists() and not demo.upload_file_set


def test_only_uploads_are_swept(demo, tmp_path):
    """Files Gradio tracks for outputs (cached examples, copies of returned files) are not uploads: left alone."""
    output = tmp_path / "result.png"
    output.write_bytes(b"photo")
    demo.temp_file_sets.append({str(output)})
    time.sleep(0.01)
    assert UploadSweeper(demo, every=60, age=0).sweep() == 0
    assert output.is_file()


def test_uploads_already_gone_are_forgotten_without_an_error(demo, tmp_path):
    gone = upload(demo, tmp_path, "gone.png")
    os.remove(gone)
    assert UploadSweeper(demo, every=60, age=0).sweep() == 0
    assert gone not in demo.upload_file_set


@pytest.mark.parametrize(("age", "every"), [(600, 60), (30, 3), (1, 1), (0.5, 1)])
def test_the_sweep_runs_often_enough_for_its_age(age, every):
    assert upload_sweep(age) == (every, age)


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
