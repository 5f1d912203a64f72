"""Build stage 1, the one pass over the catalog: content keys change with exactly what they key, photos given by
path are hashed by their bytes, and every photo lands in the photo files once, in row order."""

import copy

import datasets
import numpy as np
import pytest
from PIL import Image

from search.catalog.content import same
from search.catalog.schema import IMAGE_COLUMN, CatalogSource
from search.fixtures.synthetic import FEATURES, generate_rows, jpeg_bytes
from search.indexing.source import ScannedCatalog, scan_catalog
from tests.helpers import rows_with_image_paths


def scan(rows, folder, root=None) -> ScannedCatalog:
    table = datasets.Dataset.from_list(rows, features=FEATURES).cast_column(IMAGE_COLUMN, datasets.Image(decode=False))
    source = CatalogSource("test", "train", None, len(rows), root)
    return scan_catalog(table, source, folder, encodes_text=True, rows_per_file=16)


def changed_rows(keys_before, keys_after) -> dict[str, list[int]]:
    return {
        name: np.flatnonzero(~same(getattr(keys_before, name), getattr(keys_after, name))).tolist()
        for name in ("photo", "text", "labels")
    }


def test_the_same_content_gives_the_same_keys(tmp_path):
    first, second = scan(generate_rows(30), tmp_path / "a").keys, scan(generate_rows(30), tmp_path / "b").keys
    assert changed_rows(first, second) == {"photo": [], "text": [], "labels": []}
    assert first.ids.tolist() == [row["id"] for row in generate_rows(30)]


@pytest.mark.parametrize(
    ("column", "value", "changed"),
    [
        ("image", {"bytes": jpeg_bytes(Image.new("RGB", (60, 80), "green")), "path": None}, ["photo"]),
        ("productDisplayName", "Another name", ["text", "labels"]),
        ("baseColour", "Purple", ["labels"]),
        ("season", "Winter", ["labels"]),
        ("year", 1999, ["labels"]),
    ],
)
def test_a_change_changes_exactly_the_keys_of_what_it_touches(tmp_path, column, value, changed):
    rows = generate_rows(30)
    edited = copy.deepcopy(rows)
    edited[7][column] = value
    difference = changed_rows(scan(rows, tmp_path / "a").keys, scan(edited, tmp_path / "b").keys)
    assert difference == {name: [7] if name in changed else [] for name in ("photo", "text", "labels")}


def test_photos_given_by_path_are_read_into_the_photo_files_and_keyed_by_their_bytes(tmp_path):
    rows = generate_rows(40)
    inline = scan(rows, tmp_path / "inline")
    by_path = rows_with_image_paths(copy.deepcopy(rows), tmp_path / "catalog")
    scanned = scan(by_path, tmp_path / "by-path", tmp_path / "catalog")
    assert changed_rows(inline.keys, scanned.keys)["photo"] == []
    assert [scanned.photos[row] for row in range(40)] == [row["image"]["bytes"] for row in rows]
    (tmp_path / "catalog" / by_path[3]["image"]["path"]).write_bytes(jpeg_bytes(Image.new("RGB", (60, 80), "red")))
    (tmp_path / "catalog" / by_path[5]["image"]["path"]).unlink()
    again = scan(by_path, tmp_path / "again", tmp_path / "catalog")
    assert changed_rows(scanned.keys, again.keys)["photo"] == [3, 5], "a missing file is content too"
    assert again.photo(5)[0] is None and "not found" in again.photo(5)[1]
    assert set(again.problems) == {5}


def test_texts_are_what_the_text_tower_reads(tmp_path):
    rows = generate_rows(5)
    rows[2]["productDisplayName"] = None
    scanned = scan(rows, tmp_path / "photos")
    texts = scanned.texts([0, 2])
    assert texts[0] == rows[0]["productDisplayName"]
    assert texts[1] == " ".join(rows[2][name] for name in ("gender", "baseColour", "articleType"))
