"""Catalog loading from local folders (save_to_disk and parquet), schema validation, missing values."""

import datasets
import pytest

from search.catalog.schema import CATALOG_COLUMNS, clean_label, clean_year, label_text, load_catalog, product_text
from search.errors import CatalogError
from search.fixtures.synthetic import FEATURES, generate_catalog, save_catalog


def test_generated_catalog_has_the_real_schema():
    assert tuple(FEATURES) == CATALOG_COLUMNS
    assert isinstance(FEATURES["image"], datasets.Image)


def test_loads_save_to_disk_folder_with_limit(catalog_dir):
    table, source = load_catalog(str(catalog_dir), limit=50)
    assert len(table) == 50 and source.num_rows == 50
    assert isinstance(table[0]["image"]["bytes"], bytes)
    assert table[0]["id"] == 10_000


def test_loads_parquet_folder(tmp_path):
    folder = save_catalog(30, tmp_path / "parquet", as_parquet=True)
    table, source = load_catalog(str(folder))
    assert len(table) == 30 and source.dataset == str(folder)


def test_missing_columns_are_named(tmp_path):
    catalog = generate_catalog(5).remove_columns(["baseColour", "usage"])
    catalog.save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(CatalogError, match="missing column\\(s\\) baseColour, usage"):
        load_catalog(str(tmp_path / "bad"))


def test_empty_folder_and_bad_limit_are_explained(tmp_path, catalog_dir):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="No dataset found"):
        load_catalog(str(tmp_path / "empty"))
    with pytest.raises(CatalogError, match="--limit must be at least 1"):
        load_catalog(str(catalog_dir), limit=0)


def test_unreachable_hub_dataset_is_explained():
    with pytest.raises(CatalogError, match="Could not load dataset 'nobody/no-such-dataset'"):
        load_catalog("nobody/no-such-dataset")


def test_missing_metadata_is_cleaned():
    assert clean_label(None) == "" and clean_label(float("nan")) == "" and clean_label(" Men ") == "Men"
    assert clean_year(None) is None and clean_year(float("nan")) is None and clean_year(2012.0) == 2012
    assert (
        product_text({"productDisplayName": None, "gender": "Men", "baseColour": "Red", "articleType": "Shirts"})
        == "Men Red Shirts"
    )
    assert product_text({"productDisplayName": "Nike Shoe"}) == "Nike Shoe"
    assert product_text({"productDisplayName": " ", "usage": "Casual"}) == "product"


def test_label_text_is_what_a_shopper_types():
    assert label_text({"gender": "Women", "baseColour": "Navy Blue", "articleType": "Tops", "usage": "Casual"}) == (
        "Women Navy Blue Tops"
    )
    assert label_text({"gender": None, "baseColour": float("nan"), "articleType": "Watches"}) == "Watches"
    assert label_text({"productDisplayName": "Nike Shoe"}) == ""
