"""Catalog loading from local folders (save_to_disk and parquet), schema validation, missing values."""

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from search.catalog.products import products_from_catalog
from search.catalog.schema import CATALOG_COLUMNS, clean_label, clean_year, label_text, load_catalog, product_text
from search.errors import CatalogError
from search.fixtures.synthetic import FEATURES, generate_catalog, generate_rows, save_catalog


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


def catalog_with(tmp_path, name: str, values: list, kind: pa.DataType) -> str:
    """A parquet catalog of len(values) generated products whose column `name` holds `values` as `kind`."""
    table = datasets.Dataset.from_list(generate_rows(len(values)), features=FEATURES).data.table
    table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, kind))
    tmp_path.mkdir(exist_ok=True)
    pq.write_table(table, tmp_path / "train.parquet")
    return str(tmp_path)


@pytest.mark.parametrize(
    ("name", "values", "kind", "fragments"),
    [
        ("year", [2012.0, None, float("inf"), 2011.0], pa.float64(), ["column 'year', row 2: inf is not a year"]),
        ("year", [2012.0, 1e20, float("-inf"), 2012.5], pa.float64(), ["row 1: 1e+20", "row 2: -inf", "row 3: 2012.5"]),
        ("year", [2012, 10**12, -1, 2013], pa.int64(), ["row 1: 1000000000000 is not a year", "row 2: -1"]),
        ("year", ["2012", "1e400", "20x2", "2012.0"], pa.string(), ["row 1: '1e400'", "row 2: '20x2'", "row 3"]),
        ("year", [True, None, False, True], pa.bool_(), ["row 0: True is a bool value, not a year"]),
        ("gender", [b"Caf\xe9", None, b"Men", b"Men"], pa.binary(), ["column 'gender', row 0: b'Caf\\xe9' is bytes"]),
        ("gender", [["Men", "Women"], None, [], ["Men"]], pa.list_(pa.string()), ["row 0: ['Men', 'Women'] is a list"]),
        ("productDisplayName", [None, 1.5, float("nan"), 2.0], pa.float64(), ["row 1: 1.5 is a number", "row 3"]),
        ("usage", [{"a": 1}, None, None, None], pa.struct([("a", pa.int64())]), ["row 0: {'a': 1} is a mapping"]),
        ("image", [1, 2, None, 4], pa.int64(), ["column 'image', row 0: 1 is a int64 value, not a photo", "row 3"]),
        ("image", [[1], None, None, None], pa.list_(pa.int64()), ["row 0: [1] is a list<item: int64> value, not a"]),
    ],
)
def test_bad_catalog_values_are_refused_on_load_naming_column_and_row(tmp_path, name, values, kind, fragments):
    """inf / 1e20 failed after the whole encode without a row or column, 10¹² and '1e400' as tracebacks; bytes and
    lists became their repr ("b'Caf\\xe9'", "['Men', 'Women']") in labels shoppers see and filter by."""
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_with(tmp_path, name, values, kind))
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert "Fix these rows and build again" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "values", "kind", "stored"),
    [
        ("year", [2012.0, None, float("nan"), 2011.0], pa.float64(), [2012, None, None, 2011]),
        ("year", [" 2012 ", "", None, "0"], pa.string(), [2012, None, None, 0]),
        ("year", [None, None, None, None], pa.null(), [None, None, None, None]),
        ("season", [float("nan"), None, float("nan"), None], pa.float64(), ["", "", "", ""]),
        ("season", [1, 2, None, 3], pa.int64(), ["1", "2", "", "3"]),
    ],
)
def test_missing_values_and_whole_numbers_are_accepted(tmp_path, name, values, kind, stored):
    table, _ = load_catalog(catalog_with(tmp_path, name, values, kind))
    products = products_from_catalog(table.with_format("arrow")[:])
    assert products.column(name).to_pylist() == stored


def test_the_problems_of_a_large_catalog_are_counted_and_a_few_listed(tmp_path):
    years = [float("inf")] * 30 + [2012.0] * 10
    with pytest.raises(CatalogError, match=r"30 problem\(s\) .* and 20 more\."):
        load_catalog(catalog_with(tmp_path, "year", years, pa.float64()))
