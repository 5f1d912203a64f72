"""What the server hands out over the wire: no path outside its served files, not the bundle's files, and
uploads swept after their requests, even under a burst of concurrent requests."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file

from search.bundle import INDEX_FILE, MANIFEST_FILE, PRODUCTS_FILE
from tests.helpers import REPO

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def client(swept_app) -> Client:
    return Client(swept_app, verbose=False, download_files=False)


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        str(REPO / "app.py"),
        str(REPO / "search" / "engine.py"),
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "assets/../app.py",
    ],
)
def test_no_path_outside_the_served_files_is_readable(swept_app, path):
    for route in ("gradio_api/file=", "file="):
        response = httpx.get(f"{swept_app}{route}{path}")
        assert response.status_code in (403, 404)
        assert b"root:" not in response.content and b"import" not in response.content


def test_bundle_files_are_not_served(swept_app, engine):
    for name in (PRODUCTS_FILE, INDEX_FILE, MANIFEST_FILE):
        assert httpx.get(f"{swept_app}gradio_api/file={engine.folder / name}").status_code == 403


def test_uploads_are_swept_after_the_request(client, engine, tmp_path):
    path = tmp_path / "sweep-me.png"
    engine.product_image(int(engine.products.ids[9])).save(path)
    client.predict(handle_file(str(path)), k=2, api_name="/search_image")
    uploads = Path(get_upload_folder())
    deadline = time.monotonic() + 20
    while any(uploads.rglob("sweep-me.png")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(uploads.rglob("sweep-me.png"))
    assert client.predict("shirt", k=1, api_name="/search_text")["results"]


def test_uploads_are_still_swept_after_a_burst_of_concurrent_requests(swept_app, engine, tmp_path):
    """The sweep runs in a thread while requests add result files to Gradio's sets; a collision must not stop it."""

    def burst(worker: int) -> None:
        connection = Client(swept_app, verbose=False, download_files=False)
        try:
            for number in range(12):
                product = int(engine.products.ids[(worker * 12 + number) % len(engine.products.ids)])
                connection.predict(product, k=24, api_name="/more_like_this")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(burst, range(8)))
    path = tmp_path / "after-burst.png"
    engine.product_image(int(engine.products.ids[20])).save(path)
    uploader = Client(swept_app, verbose=False, download_files=False)
    uploader.predict(handle_file(str(path)), k=2, api_name="/search_image")
    uploader.close()
    uploads = Path(get_upload_folder())
    deadline = time.monotonic() + 20
    while any(uploads.rglob(path.name)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(uploads.rglob(path.name))
