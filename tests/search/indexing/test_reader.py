"""Build stage 1: batches of catalog rows are read, decoded and preprocessed exactly as row-by-row processing
would, in row order, whole batches at a time."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from search.catalog.images import MAX_IMAGE_BYTES
from search.catalog.schema import load_catalog, product_text
from search.encoding.encoder import Encoder
from search.indexing.reader import ProductBatchSource, batch_loader, product_image, stored_image
from search.indexing.source import ScannedCatalog, scan_catalog


@pytest.fixture(scope="module")
def encoder(tiny_model) -> Encoder:
    return Encoder.load(str(tiny_model))


@pytest.fixture(scope="module")
def catalog(catalog_dir, tmp_path_factory) -> ScannedCatalog:
    return scan_catalog(*load_catalog(str(catalog_dir)), tmp_path_factory.mktemp("photos"), encodes_text=True)


def test_batched_reader_equals_row_by_row_processing(catalog, encoder):
    rows = [3, 4, 5, 9, 200]
    source = ProductBatchSource(catalog, rows, encoder.image_processor)
    numbers, pixels, texts, unreadable = source.__getitems__(list(range(len(rows))))
    assert numbers == rows and unreadable == {}
    for position, row in enumerate(rows):
        record = catalog.table[row]
        image, problem = product_image(record)
        expected = encoder.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]
        assert problem is None and texts[position] == product_text(record)
        np.testing.assert_array_equal(pixels[position].numpy(), expected.numpy())


def test_loader_yields_whole_batches_in_row_order(catalog, encoder):
    batches = list(batch_loader(catalog, range(40), encoder.image_processor, 16, 0, pin_memory=False))
    assert [len(batch[0]) for batch in batches] == [16, 16, 8]
    assert [row for batch in batches for row in batch[0]] == list(range(40))
    assert batches[0][1].shape[0] == 16


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ({"bytes": b"", "path": None}, "the image is empty (0 bytes)"),
        ({"bytes": None, "path": None}, "no image"),
        (None, "no image"),
        ({"bytes": None, "path": "images/missing.jpg"}, "Image file not found: images/missing.jpg"),
    ],
)
def test_rows_without_a_usable_image_say_why(cell, problem, tmp_path):
    data, reason = stored_image(cell, tmp_path)
    assert data is None and reason.startswith(problem)


def test_images_are_read_from_their_bytes_or_their_path(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"jpeg bytes")
    assert stored_image({"bytes": b"stored", "path": "ignored.jpg"}, tmp_path) == (b"stored", None)
    assert stored_image({"bytes": None, "path": "images/a.jpg"}, tmp_path) == (b"jpeg bytes", None)
    assert stored_image({"bytes": None, "path": "./images//a.jpg"}, tmp_path) == (b"jpeg bytes", None)


@pytest.fixture
def dataset_and_secret(tmp_path) -> tuple[Path, Path]:
    """A dataset folder with one photo, and a file next to it that the build can read but the catalog must not."""
    root = tmp_path / "dataset"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.jpg").write_bytes(b"jpeg bytes")
    secret = tmp_path / "secret" / "private.jpg"
    secret.parent.mkdir()
    secret.write_bytes(b"private key")
    return root, secret


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../secret/private.jpg", "has '..'"),
        ("images/../../secret/private.jpg", "has '..'"),
        ("ABSOLUTE", "is absolute"),
        ("/etc/shadow", "is absolute"),
        ("/dev/zero", "is absolute"),
        ("images/link.jpg", "leads outside the dataset's folder"),
        ("images/zero", "leads outside the dataset's folder"),
    ],
)
def test_image_paths_leaving_the_dataset_folder_are_refused_unread(dataset_and_secret, path, problem):
    root, secret = dataset_and_secret
    (root / "images" / "link.jpg").symlink_to(secret)
    (root / "images" / "zero").symlink_to("/dev/zero")
    path = str(secret) if path == "ABSOLUTE" else path
    data, reason = stored_image({"bytes": None, "path": path}, root)
    assert data is None and problem in reason


def test_an_absolute_path_inside_the_dataset_folder_is_refused_too(dataset_and_secret):
    root, _ = dataset_and_secret
    data, reason = stored_image({"bytes": None, "path": str(root / "images" / "a.jpg")}, root)
    assert data is None and "is absolute: a catalog names its photos relative to the dataset's folder" in reason


def test_a_link_that_stays_inside_the_dataset_folder_is_followed(dataset_and_secret):
    root, _ = dataset_and_secret
    (root / "same.jpg").symlink_to(root / "images" / "a.jpg")
    assert stored_image({"bytes": None, "path": "same.jpg"}, root) == (b"jpeg bytes", None)


@pytest.mark.parametrize("path", ["images/a.jpg", "/tmp/a.jpg"])
def test_a_hub_dataset_gives_its_photos_as_bytes_not_paths(path):
    """A Hub dataset has no folder (root None): a relative path has nothing to be read from and an absolute one
    would read the build machine's files."""
    data, reason = stored_image({"bytes": None, "path": path}, None)
    assert data is None and ("not a local folder" in reason or "is absolute" in reason)


def test_only_regular_files_are_read_and_a_fifo_does_not_hang(dataset_and_secret):
    root, _ = dataset_and_secret
    os.mkfifo(root / "images" / "pipe.jpg")
    (root / "images" / "folder.jpg").mkdir()
    answers: list[tuple[bytes | None, str | None]] = []
    reader = threading.Thread(
        target=lambda: answers.extend(
            stored_image({"bytes": None, "path": name}, root) for name in ("images/pipe.jpg", "images/folder.jpg")
        ),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "reading a FIFO named by the catalog hung"
    assert [data for data, _ in answers] == [None, None]
    assert all("is not a regular file" in reason for _, reason in answers)


def test_image_files_are_read_up_to_the_limit_only(dataset_and_secret):
    root, _ = dataset_and_secret
    with open(root / "images" / "huge.jpg", "wb") as file:
        file.truncate(MAX_IMAGE_BYTES + 1)  # sparse: no disk used
    data, reason = stored_image({"bytes": None, "path": "images/huge.jpg"}, root)
    assert data is None and "the limit is 20 MB" in reason


@pytest.mark.parametrize("path", [b"images/a.jpg", "images/a\0.jpg"])
def test_an_image_path_that_is_not_a_file_name_is_refused(dataset_and_secret, path):
    root, _ = dataset_and_secret
    data, reason = stored_image({"bytes": None, "path": path}, root)
    assert data is None and "is not a file name" in reason


def test_an_undecodable_photo_gets_the_placeholder_and_the_decoders_reason():
    image, problem = product_image({"image": {"bytes": b"this is not a photo", "path": None}})
    assert image.size == (60, 80) and "not an image that can be read" in problem


MEMORY_SCRIPT = """
import io, resource, sys
from PIL import Image
from search.indexing.reader import product_image
big = io.BytesIO(); Image.new("RGB", (6000, 6000), (200, 10, 10)).save(big, format="PNG")
small = io.BytesIO(); Image.new("RGB", (60, 80), (10, 10, 200)).save(small, format="PNG")
size = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 100 * 2**20, resource.RLIM_INFINITY))
print(product_image({"image": {"bytes": big.getvalue(), "path": None}})[1])
image, problem = product_image({"image": {"bytes": small.getvalue(), "path": None}})
print(image.size, problem)
"""


def test_a_photo_too_large_for_the_memory_left_marks_just_that_product():
    """A build died of one photo's MemoryError; now that photo is unreadable and the next one decodes. A real
    MemoryError: the process may use 100 MB more than it has, and the 36 MP photo decodes to 144 MB."""
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-2:] == ["there was not enough memory to decode the image", "(60, 80) None"]
