"""Build stage 1: batches of catalog rows are read, decoded and preprocessed exactly as row-by-row processing
would, in row order, whole batches at a time."""

import numpy as np
import pytest

from search.catalog.schema import load_catalog, product_text
from search.encoding.encoder import Encoder
from search.indexing.reader import ProductBatchSource, batch_loader, product_image, stored_image


@pytest.fixture(scope="module")
def encoder(tiny_model) -> Encoder:
    return Encoder.load(str(tiny_model))


def test_batched_reader_equals_row_by_row_processing(catalog_dir, encoder):
    table, _ = load_catalog(str(catalog_dir))
    rows = [3, 4, 5, 9, 200]
    source = ProductBatchSource(table, rows, encoder.image_processor)
    numbers, pixels, texts, unreadable = source.__getitems__(list(range(len(rows))))
    assert numbers == rows and unreadable == {}
    for position, row in enumerate(rows):
        record = table[row]
        image, problem = product_image(record)
        expected = encoder.image_processor(images=[image], return_tensors="pt")["pixel_values"][0]
        assert problem is None and texts[position] == product_text(record)
        np.testing.assert_array_equal(pixels[position].numpy(), expected.numpy())


def test_loader_yields_whole_batches_in_row_order(catalog_dir, encoder):
    table, _ = load_catalog(str(catalog_dir))
    batches = list(batch_loader(table, range(40), encoder.image_processor, 16, 0, pin_memory=False))
    assert [len(batch[0]) for batch in batches] == [16, 16, 8]
    assert [row for batch in batches for row in batch[0]] == list(range(40))
    assert batches[0][1].shape[0] == 16


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ({"bytes": b"", "path": None}, "the image is empty (0 bytes)"),
        ({"bytes": None, "path": None}, "no image"),
        (None, "no image"),
        ({"bytes": None, "path": "images/missing.jpg"}, "images/missing.jpg cannot be read (No such file"),
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
    absolute = str(tmp_path / "images" / "a.jpg")
    assert stored_image({"bytes": None, "path": absolute}, None) == (b"jpeg bytes", None)
    data, problem = stored_image({"bytes": None, "path": "images/a.jpg"}, None)
    assert data is None and "relative, but the dataset is not a local folder" in problem


def test_an_undecodable_photo_gets_the_placeholder_and_the_decoders_reason():
    image, problem = product_image({"image": {"bytes": b"this is not a photo", "path": None}})
    assert image.size == (60, 80) and "not an image that can be read" in problem
