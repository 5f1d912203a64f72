"""Held-out split, text fields and batches: deterministic, complete, name groups kept on one side."""

import datasets
import numpy as np
import pytest
import torch

from search.catalog.schema import NAME_COLUMN, load_catalog
from search.encoding.encoder import Encoder
from search.errors import TrainingError
from search.fixtures.synthetic import FEATURES, generate_rows
from search.training.config import TextField, parse_fields
from search.training.data import PairSource, batch_stream, epoch_batches, field_text, split_rows, unique_texts


def catalog(rows: list[dict]) -> datasets.Dataset:
    return datasets.Dataset.from_list(rows, features=FEATURES)


def test_split_holds_out_the_share_and_keeps_shared_names_on_one_side():
    rows = generate_rows(200, seed=1)
    for row in rows[100:140]:
        row[NAME_COLUMN] = "Puma Men Black Tshirts"  # one article listed 40 times
    table = catalog(rows)
    split = split_rows(table, 0.25, seed=0)
    assert sorted([*split.train, *split.heldout]) == list(range(200))
    assert 45 <= len(split.heldout) <= 50 + 40
    sides = {row in set(split.heldout.tolist()) for row in range(100, 140)}
    assert len(sides) == 1
    heldout_names = {table[int(r)][NAME_COLUMN] for r in split.heldout} - {None}
    train_names = {table[int(r)][NAME_COLUMN] for r in split.train} - {None}
    assert not heldout_names & train_names


def test_split_is_fixed_by_the_seed():
    table = catalog(generate_rows(120))
    first, again, other = split_rows(table, 0.2, 0), split_rows(table, 0.2, 0), split_rows(table, 0.2, 1)
    np.testing.assert_array_equal(first.heldout, again.heldout)
    assert not np.array_equal(first.heldout, other.heldout)


def test_too_small_a_catalog_is_explained():
    with pytest.raises(TrainingError, match="cannot be split"):
        split_rows(catalog(generate_rows(3)), 0.1, 0)


def test_field_texts():
    row = {
        "productDisplayName": " Nike Men Red Tshirt ",
        "gender": "Men",
        "baseColour": "Red",
        "articleType": "Tshirts",
    }
    fields = dict((f.name, f) for f in parse_fields("name,labels,baseColour,usage"))
    assert field_text(row, fields["name"]) == "Nike Men Red Tshirt"
    assert field_text(row, fields["labels"]) == "Men Red Tshirts"
    assert field_text(row, fields["baseColour"]) == "Red"
    assert field_text(row, fields["usage"]) == ""
    assert field_text({**row, "gender": float("nan")}, fields["labels"]) == "Red Tshirts"


def test_unique_texts_skip_empty_and_unreadable():
    texts, index = unique_texts(["Red", "Blue", "Red", "", "Blue"], [True, True, True, True, False])
    assert texts == ["Red", "Blue"]
    assert index.tolist() == [0, 1, 0, -1, -1]


def test_epoch_batches_cover_every_row_once_and_change_each_epoch():
    rows = list(range(10, 43))  # 33 rows in batches of 8: a last batch of one joins the one before
    batches = epoch_batches(rows, 8, seed=0, epoch=0)
    assert sorted(row for batch in batches for row in batch) == rows
    assert [len(batch) for batch in batches] == [8, 8, 8, 9]
    assert batches == epoch_batches(rows, 8, seed=0, epoch=0)
    assert batches != epoch_batches(rows, 8, seed=0, epoch=1)


def test_batches_are_the_same_with_worker_processes(tiny_model, catalog_dir):
    table, _ = load_catalog(str(catalog_dir), limit=40)
    encoder = Encoder.load(str(tiny_model), runtime="torch")
    fields = parse_fields("name,labels")
    source = PairSource(table, fields, encoder.image_processor, flip=True, seed=0, epoch=0)
    batches = epoch_batches(range(40), 16, seed=0, epoch=0)
    inline = list(batch_stream(source, batches, num_workers=0, pin_memory=False))
    workers = list(batch_stream(source, batches, num_workers=2, pin_memory=False))
    for one, other in zip(inline, workers, strict=True):
        assert one.rows == other.rows and one.texts == other.texts
        torch.testing.assert_close(one.pixel_values, other.pixel_values, rtol=0, atol=0)
    assert inline[0].texts["labels"][0] == field_text(table[inline[0].rows[0]], TextField("labels", 1.0))


def test_flips_mirror_some_photos(tiny_model, catalog_dir):
    table, _ = load_catalog(str(catalog_dir), limit=32)
    processor = Encoder.load(str(tiny_model), runtime="torch").image_processor
    fields = parse_fields("name")
    rows = list(range(32))
    plain = PairSource(table, fields, processor, flip=False, seed=0, epoch=0).__getitems__(rows)
    flipped = PairSource(table, fields, processor, flip=True, seed=0, epoch=0).__getitems__(rows)
    mirrored = [torch.allclose(flipped.pixel_values[i], plain.pixel_values[i].flip(-1), atol=0.05) for i in range(32)]
    same = [torch.allclose(flipped.pixel_values[i], plain.pixel_values[i], atol=0.05) for i in range(32)]
    assert all(m or s for m, s in zip(mirrored, same, strict=True))
    assert 0 < sum(m and not s for m, s in zip(mirrored, same, strict=True)) < 32
