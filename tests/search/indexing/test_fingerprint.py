"""The catalog fingerprint changes with any content that changes a vector, and only then."""

import copy

import datasets
from PIL import Image

from search.catalog.schema import IMAGE_COLUMN
from search.fixtures.synthetic import FEATURES, generate_rows, jpeg_bytes
from search.indexing.fingerprint import catalog_fingerprint
from tests.helpers import rows_with_image_paths


def fingerprint(rows, root=None) -> str:
    table = datasets.Dataset.from_list(rows, features=FEATURES)
    return catalog_fingerprint(table.cast_column(IMAGE_COLUMN, datasets.Image(decode=False)), root)


def test_the_same_content_gives_the_same_fingerprint():
    assert fingerprint(generate_rows(30)) == fingerprint(generate_rows(30))


def test_a_changed_photo_name_or_label_changes_it():
    rows = generate_rows(30)
    base = fingerprint(rows)
    changes = [
        ("image", {"bytes": jpeg_bytes(Image.new("RGB", (60, 80), "green")), "path": None}),
        ("productDisplayName", "Another name"),
        ("baseColour", "Purple"),
        ("id", 99_999),
    ]
    for column, value in changes:
        changed = copy.deepcopy(rows)
        changed[7][column] = value
        assert fingerprint(changed) != base, column


def test_images_given_by_path_are_hashed_by_their_files(tmp_path):
    rows = rows_with_image_paths(generate_rows(10), tmp_path)
    base = fingerprint(rows, tmp_path)
    (tmp_path / rows[3]["image"]["path"]).write_bytes(jpeg_bytes(Image.new("RGB", (60, 80), "red")))
    assert fingerprint(rows, tmp_path) != base
    changed = fingerprint(rows, tmp_path)
    assert changed != base
    (tmp_path / rows[3]["image"]["path"]).unlink()
    assert fingerprint(rows, tmp_path) not in (base, changed), "a missing file is content too"
