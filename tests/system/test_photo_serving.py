"""Product photos stay served: they live in a per-instance folder that no sweep touches, the sweep deletes only
uploads, and two app instances on one machine never delete each other's files."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file
from PIL import Image

from tests.helpers import free_port

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]
NO_TRANSLATION = ("--translation-model", "none")


def photo_urls(url: str, text: str = "shirt", k: int = 8) -> list[str]:
    client = Client(url, verbose=False, download_files=False)
    try:
        payload = client.predict(text, k=k, api_name="/search_text")
    finally:
        client.close()
    return [result["image"]["url"] for result in payload["results"]]


def test_result_photos_stay_served_long_after_the_sweep_age(swept_app, engine):
    urls = photo_urls(swept_app)
    time.sleep(3.5)
    for photo in urls:
        response = httpx.get(photo, timeout=30)
        assert response.status_code == 200, photo
    client = Client(swept_app, verbose=False, download_files=False)
    try:
        first = client.predict("shirt", k=1, api_name="/search_text")["results"][0]
    finally:
        client.close()
    assert httpx.get(first["image"]["url"], timeout=30).content == engine.product_photo_bytes(first["id"])


def test_product_photos_are_not_kept_with_uploads(swept_app):
    uploads = Path(get_upload_folder()).resolve()
    client = Client(swept_app, verbose=False, download_files=False)
    try:
        payload = client.predict("shirt", k=3, api_name="/search_text")
    finally:
        client.close()
    for result in payload["results"]:
        assert not Path(result["image"]["path"]).resolve().is_relative_to(uploads)


def start(bundle: Path, port: int, temp: Path, max_age: str) -> subprocess.Popen:
    environment = {**os.environ, "GRADIO_TEMP_DIR": str(temp), "HF_HUB_OFFLINE": "1", "SEARCH_UPLOAD_MAX_AGE": max_age}
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "app.py"),
            "--index",
            str(bundle),
            "--port",
            str(port),
            "--translation-model",
            "none",
        ],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connect(port: int, process: subprocess.Popen, timeout: float = 180) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "app.py exited"
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        except Exception:  # not listening yet
            assert time.monotonic() < deadline, "app.py did not start"
            time.sleep(0.5)


def test_two_instances_sharing_a_temp_folder_keep_each_others_files(bundle_dir, tmp_path, engine):
    """Instance A keeps uploads 10 minutes; instance B, on the same machine and temp folder, sweeps every second.
    Both receive the same photo and return the same products; B's sweeps must not touch anything A serves."""
    shared = tmp_path / "gradio"
    photo = tmp_path / "query.png"
    Image.new("RGB", (64, 64), "red").save(photo)
    ports = free_port(), free_port()
    processes = [start(bundle_dir, ports[0], shared, "600"), start(bundle_dir, ports[1], shared, "1")]
    try:
        first, second = (connect(port, process) for port, process in zip(ports, processes, strict=True))
        kept = first.predict(handle_file(str(photo)), k=4, api_name="/search_image")
        second.predict(handle_file(str(photo)), k=4, api_name="/search_image")
        second.predict("shirt", k=8, api_name="/search_text")
        texts = first.predict("shirt", k=8, api_name="/search_text")
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), "navy").save(buffer, format="PNG")
        files = {"files": ("b.png", buffer.getvalue())}
        response = httpx.post(f"http://127.0.0.1:{ports[1]}/gradio_api/upload", files=files)
        swept_upload = Path(response.json()[0])
        deadline = time.monotonic() + 20
        while swept_upload.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not swept_upload.exists(), "instance B sweeps its own uploads every second"
        for result in kept["results"] + texts["results"]:
            assert httpx.get(result["image"]["url"], timeout=30).status_code == 200
        again = first.predict(handle_file(str(photo)), k=4, api_name="/search_image")
        assert [r["id"] for r in again["results"]] == [r["id"] for r in kept["results"]]
        first.close()
        second.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
