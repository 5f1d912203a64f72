"""scripts/make_demo_catalog.py on a small folder laid out like ../shared/data: the named products in the dataset's
exact schema, gender read from the names, the example photos byte for byte, the same bytes when run again; and the
catalog that ships in assets/demo/ is in that schema."""

import datasets
import pyarrow.parquet as pq

from scripts.make_demo_catalog import gender_from_name, main
from scripts.shared_catalog import PARQUET_FILE
from search.catalog.schema import CATALOG_COLUMNS, load_catalog
from search.fixtures.synthetic import FEATURES
from search.indexing.default_index import DEMO_CATALOG, DEMO_DIR


def test_the_named_products_become_the_demo_catalog(shared_data, shared_names, tmp_path):
    assert main(["--data", str(shared_data), "--out", str(tmp_path), "--photo", "watch.jpg=3"]) == 0
    table, source = load_catalog(str(tmp_path / "catalog"))
    assert source.num_rows == len(shared_names) and table.column_names == list(CATALOG_COLUMNS)
    rows = table.remove_columns("image").to_list()
    assert {row["id"]: row["productDisplayName"] for row in rows} == shared_names
    assert all(row["gender"] == gender_from_name(row["productDisplayName"]) for row in rows)
    assert (tmp_path / "photos" / "watch.jpg").read_bytes() == (shared_data / "product-images" / "3.jpg").read_bytes()
    first = (tmp_path / "catalog" / PARQUET_FILE).read_bytes()
    assert main(["--data", str(shared_data), "--out", str(tmp_path), "--photo", "watch.jpg=3"]) == 0
    assert (tmp_path / "catalog" / PARQUET_FILE).read_bytes() == first, "a rerun writes the same bytes"


def test_an_example_photo_of_an_unnamed_product_is_refused(shared_data, tmp_path, capsys):
    assert main(["--data", str(shared_data), "--out", str(tmp_path), "--photo", "x.jpg=5"]) == 2
    assert "No named product with id 5" in capsys.readouterr().err


def test_gender_is_read_from_the_name_where_it_says_it():
    assert gender_from_name("ADIDAS Women's Who Was That Yellow T-shirt") == "Women"
    assert gender_from_name("Puma Men Red Tshirt") == "Men"
    assert gender_from_name("Titan Silver Watch") is None and gender_from_name(None) is None


def test_a_folder_without_the_reference_data_is_refused(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "already ships in assets/demo/" in capsys.readouterr().err


def test_the_shipped_demo_catalog_has_the_dataset_schema_and_real_names():
    table = datasets.Dataset(pq.read_table(next(DEMO_CATALOG.glob("*.parquet"))))
    assert table.features == FEATURES and len(table) >= 580
    assert all(table["productDisplayName"]) and len(set(table["id"])) == len(table)
    size = sum(path.stat().st_size for path in DEMO_DIR.rglob("*") if path.is_file() and "small-clip" not in path.parts)
    assert size <= 15e6, "the demo catalog and its photos stay within 15 MB"
