"""Bad input over the wire: every bad image, text, number or filter gets a specific message through the client
API, the server keeps serving, and odd but valid input is searched."""

import io
import struct
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from search import MAX_IMAGE_BYTES

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def client(swept_app) -> Client:
    return Client(swept_app, verbose=False, download_files=False)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


BAD_IMAGES = {
    "empty.jpg": (lambda: b"", "empty \\(0 bytes\\)"),
    "notes.jpg": (lambda: b"just some text, not a photo", "not an image that can be read"),
    "truncated.jpg": (lambda: encoded(Image.new("RGB", (300, 300), "red"), "JPEG")[:400], "corrupt or truncated"),
    "bomb.png": (lambda: bomb_png(30000, 30000), "too large"),
    "dot.png": (lambda: encoded(Image.new("RGB", (1, 1))), "too small to search with \\(1×1 px\\)"),
    "thin.png": (lambda: encoded(Image.new("1", (8, 1_000_000), 1)), "8×1000000 px: .* at most 20:1"),
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
@pytest.mark.parametrize("endpoint", ["/search_image", "/search_composed", "/embed"])
def test_bad_images_get_a_specific_message_and_the_server_keeps_serving(client, tmp_path, name, endpoint):
    make, message = BAD_IMAGES[name]
    upload = handle_file(str(write(tmp_path / name, make())))
    arguments = {"/search_image": {"image": upload}, "/search_composed": {"image": upload, "text": "in red"},
                 "/embed": {"image": upload}}[endpoint]  # fmt: skip
    with pytest.raises(AppError, match=message):
        client.predict(**arguments, api_name=endpoint)
    assert client.predict("shirt", k=2, api_name="/search_text")["results"]


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (Image.new("RGBA", (64, 64), (200, 0, 0, 100)), "PNG"),
        (Image.new("P", (64, 64), 5), "GIF"),
        (Image.new("LA", (64, 64), (90, 200)), "PNG"),
        (Image.fromarray(np.full((64, 64), 30000, dtype=np.uint16)), "PNG"),
        (Image.new("CMYK", (64, 64), (0, 200, 200, 0)), "JPEG"),
        (Image.new("L", (64, 64), 120), "JPEG"),
    ],
    ids=["RGBA", "P", "LA", "16-bit", "CMYK", "grayscale"],
)
def test_unusual_image_modes_are_searched(client, engine, tmp_path, image, fmt):
    path = write(tmp_path / f"photo.{fmt.lower()}", encoded(image, fmt))
    payload = client.predict(handle_file(str(path)), k=3, api_name="/search_image")
    assert [r["id"] for r in payload["results"]] == engine.search_image(path, k=3, collapse_similar=True).ids


def test_upload_over_the_size_limit_is_refused(swept_app, tmp_path):
    big = write(tmp_path / "huge.png", b"\x89PNG" + b"\0" * (MAX_IMAGE_BYTES + 1024))
    response = httpx.post(f"{swept_app}gradio_api/upload", files={"files": ("huge.png", big.read_bytes())})
    assert response.status_code == 413
    assert "maximum allowed size" in response.text


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("red shirt " * 1000, "only the first 2,000 were used"),
        ("áo sơ mi đỏ " * 3, None),
        ("👗👠✨", None),
        ("red\x00\x07 shirt\u200b", None),
    ],
    ids=["10k-chars", "vietnamese", "emoji", "control-chars"],
)
def test_odd_texts_are_searched(client, text, notice):
    payload = client.predict(text, k=3, api_name="/search_text")
    assert len(payload["results"]) == 3
    if notice:
        assert any(notice in n for n in payload["notices"])


def test_composed_with_empty_text_falls_back_to_the_image_and_says_so(client, tmp_path, engine):
    path = tmp_path / "p.png"
    engine.product_image(int(engine.products.ids[5])).save(path)
    payload = client.predict(handle_file(str(path)), "   ", 0.5, 4, api_name="/search_composed")
    assert "used the image alone" in payload["notices"][0]
    assert [r["id"] for r in payload["results"]] == engine.search_image(path, k=4, collapse_similar=True).ids


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"text": "shirt", "k": -5}, "at least 1"),
        ({"text": "shirt", "k": 2.5}, "whole number"),
        ({"text": "shirt", "semantic_weight": 1.5}, "semantic_weight must be between 0 and 1"),
        ({"text": "shirt", "semantic_weight": -0.1}, "semantic_weight must be between 0 and 1"),
        ({"text": "shirt", "filters": {"season": ["Monsoon"]}}, "No product has season 'Monsoon'"),
        ({"text": "shirt", "filters": "gender=Men"}, "Filters must be a mapping"),
    ],
)
def test_bad_numbers_and_filters_are_explained(client, arguments, message):
    with pytest.raises(AppError, match=message):
        client.predict(**arguments, api_name="/search_text")


def test_nan_weight_is_refused(swept_app):
    body = {"data": ["shirt", 5, None, "NaN", False, True, True]}  # every argument of /search_text, in order
    event = httpx.post(f"{swept_app}gradio_api/call/search_text", json=body).json()["event_id"]
    stream = httpx.get(f"{swept_app}gradio_api/call/search_text/{event}", timeout=30).text
    assert "semantic_weight must be" in stream
