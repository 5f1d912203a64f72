"""Build stage 1: batches of catalog rows are read, decoded and preprocessed exactly as row-by-row processing
would, in row order, whole batches at a time."""

import numpy as np
import pytest

from search.build.reader import ProductBatchSource, batch_loader, product_image
from search.catalog import load_catalog, product_text
from search.encoder import Encoder


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
