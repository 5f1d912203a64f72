"""The catalog vocabulary: built by index_build.py into the bundle, described in the manifest, read back exactly,
and a damaged or lying copy refused with a BundleError that says what is wrong."""

import json
from typing import get_args

import numpy as np
import pytest

from search.bundle import Bundle, read_manifest
from search.catalog.schema import LABEL_COLUMNS
from search.errors import BundleError
from search.fixtures.synthetic import generate_rows
from search.understanding.synonyms import SYNONYMS
from search.understanding.vocabulary import BRANDS_FILE, VOCABULARY_FILE, LabelField, Vocabulary, text_words
from tests.helpers import edit_manifest


def test_the_build_stores_the_vocabulary_of_the_catalog(bundle_dir, engine):
    manifest = read_manifest(bundle_dir)
    info = manifest.components.vocabulary
    vocabulary = engine.bundle.vocabulary
    assert info == vocabulary.describe() and info.num_rows == len(engine.products) == 240
    assert {"vocabulary/vocabulary.json", "vocabulary/brands.npy"} <= set(manifest.files)
    frame = engine.products.frame
    assert vocabulary.labels["articleType"] == frame.articleType.value_counts().to_dict()
    names = frame.productDisplayName
    assert vocabulary.words["jeans"] == int(frame.articleType.eq("Jeans").sum())
    brands = vocabulary.brand_labels()
    assert all(not name or name.startswith(brand + " ") for name, brand in zip(names, brands, strict=True))
    assert sum(bool(brand) for brand in brands) == sum(bool(name) for name in names)


def test_synonyms_keep_only_the_labels_the_catalog_has(engine):
    synonyms = engine.bundle.vocabulary.synonyms
    assert synonyms["sneakers"] == (("articleType", "Casual Shoes"),)  # no Sports Shoes in this catalog
    assert "hoodie" not in synonyms  # no Sweatshirts either
    assert set(synonyms) < set(SYNONYMS)
    for word, targets in SYNONYMS.items():
        assert len({field for field, _ in targets}) == 1, f"{word} names labels of several fields"


def test_words_are_read_as_the_keyword_analysis_reads_them():
    assert text_words("Men's T-shirt, Navy-Blue") == ["men", "t", "shirt", "tshirt", "navy", "blue", "navyblue"]


def test_save_and_load_give_back_the_same_vocabulary(tmp_path):
    built = Vocabulary.build(generate_rows(60, seed=3))
    built.save(tmp_path)
    loaded = Vocabulary.load(tmp_path, built.describe())
    assert loaded.words == built.words and loaded.labels == built.labels and loaded.synonyms == built.synonyms
    assert loaded.brands == built.brands and np.array_equal(loaded.brand_codes, built.brand_codes)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / VOCABULARY_FILE).write_text("{not json"), "vocabulary.json is invalid"),
        (lambda folder: (folder / BRANDS_FILE).unlink(), "cannot be read"),
        (lambda folder: np.save(folder / BRANDS_FILE, np.zeros(3, np.int32)), "must hold 60 int32 brand codes"),
        (lambda folder: np.save(folder / BRANDS_FILE, np.full(60, 99, np.int32)), "outside its brand list"),
        (lambda folder: _edit(folder, lambda data: data["words"].update({"extra": 1})), "words \\(the manifest says"),
        (lambda folder: _edit(folder, lambda data: data["words"].update({"zero": 0})), "greater than or equal to 1"),
        (lambda folder: _edit(folder, lambda data: data["labels"].update({"colour": {}})), "colour"),
    ],
)
def test_a_damaged_vocabulary_is_refused(tmp_path, damage, message):
    built = Vocabulary.build(generate_rows(60, seed=3))
    built.save(tmp_path)
    damage(tmp_path)
    with pytest.raises(BundleError, match=message):
        Vocabulary.load(tmp_path, built.describe())


def test_a_manifest_that_lies_about_the_vocabulary_is_refused(bundle_copy):
    edit_manifest(bundle_copy, lambda manifest: manifest["components"]["vocabulary"].update({"brands": 3}))
    with pytest.raises(BundleError, match="3 brands|brands"):
        Bundle.load(bundle_copy, verify=False)
    edit_manifest(bundle_copy, lambda manifest: manifest["components"]["vocabulary"].update({"folder": "../x"}))
    with pytest.raises(BundleError, match="components.vocabulary.folder"):
        Bundle.load(bundle_copy, verify=False)


def _edit(folder, change) -> None:
    data = json.loads((folder / VOCABULARY_FILE).read_text())
    change(data)
    (folder / VOCABULARY_FILE).write_text(json.dumps(data))


def test_the_label_fields_of_the_file_schema_are_the_catalogs():
    assert get_args(LabelField) == LABEL_COLUMNS
