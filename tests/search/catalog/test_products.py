"""The products table: Arrow metadata equals the pandas row; only the schema's columns are kept and typed; serving
never builds a pandas frame."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from search.catalog.photos import PhotoShards
from search.catalog.products import ProductTable, products_frame, products_from_catalog
from search.errors import BundleError
from search.fixtures.synthetic import FEATURES, generate_rows


def test_fast_metadata_equals_the_pandas_row():
    products = ProductTable(products_frame(generate_rows(300, seed=3)))
    for row in range(300):
        expected = products.frame.iloc[row].to_dict()
        expected["year"] = None if pd.isna(expected["year"]) else int(expected["year"])
        expected["id"] = int(expected["id"])
        got = products.metadata(row)
        assert got == expected
        assert [type(value) for value in got.values()] == [type(value) for value in expected.values()]
    rows = [299, 0, 17, 17, 150]
    assert products.metadata_rows(rows) == [products.metadata(row) for row in rows]


def test_serving_reads_arrow_columns_and_never_builds_the_pandas_frame(engine):
    """A pandas frame holds a Python object per value (~2 GB at a million products, docs/SCALE.md)."""
    products = engine.products
    products.__dict__.pop("frame", None)
    product_id = int(products.ids[7])
    engine.search_text("red shirt", k=10, filters={"gender": "Men"})
    engine.search_text("red shirt", k=10, semantic_weight=0.0)
    engine.more_like_this(product_id, k=5)
    engine.product(product_id)
    labels = engine.catalog_labels(["articleType"])
    assert labels.shape == (len(products), 2)
    assert "frame" not in products.__dict__
    assert products.frame.shape[0] == len(products) and "frame" in products.__dict__


def test_columns_outside_the_schema_are_dropped_and_never_served():
    table = products_frame(generate_rows(5)).append_column("secret", pa.array(["password"] * 5))
    products = ProductTable(table)
    assert "secret" not in products.metadata(0) and "secret" not in products.table.column_names


def test_a_mistyped_column_is_named():
    table = products_frame(generate_rows(5))
    table = table.set_column(table.schema.get_field_index("year"), "year", pa.array(["soon"] * 5))
    with pytest.raises(BundleError, match="column year holds string, not int32"):
        ProductTable(table)


def test_missing_and_duplicate_ids_are_refused():
    rows = generate_rows(4)
    rows[2]["id"] = rows[1]["id"]
    with pytest.raises(BundleError, match=f"duplicate product ids: {rows[1]['id']}"):
        ProductTable.from_rows(rows)
    table = products_frame(generate_rows(3))
    table = table.set_column(0, "id", pa.array([1, None, 3], type=pa.int64()))
    with pytest.raises(BundleError, match="1 row\\(s\\) without a product id"):
        ProductTable(table)


def test_the_catalog_arrow_table_gives_the_same_products_as_its_rows():
    rows = generate_rows(200, seed=5)
    rows[3].update(productDisplayName="  Padded Name  ", gender=None, year=float("nan"))
    rows[4].update(year=None, image=None)
    rows[5].update(year=-3.7)
    catalog = pa.Table.from_pylist(rows, schema=FEATURES.arrow_schema)
    assert products_from_catalog(catalog).equals(products_frame(rows))


def test_photos_saved_to_sharded_files_read_back_for_every_row(tmp_path):
    rows = generate_rows(70, seed=2)
    rows[9]["image"] = None
    products = ProductTable(products_frame(rows))
    files = products.save(tmp_path / "products.parquet", tmp_path / "photos", rows_per_file=32)
    assert files == 3
    assert pq.read_table(tmp_path / "products.parquet").column("image_bytes").null_count == 70
    shards = PhotoShards(tmp_path / "photos", 70, 32, files)
    loaded = ProductTable.read(tmp_path / "products.parquet", shards)
    assert [loaded.image_bytes(row) for row in range(70)] == [products.image_bytes(row) for row in range(70)]
    assert loaded.image_bytes(9) is None and loaded.image_bytes(10) == rows[10]["image"]["bytes"]
    with pytest.raises(BundleError, match="70 photos for 69 products"):
        ProductTable(products_frame(rows[:69]), shards)
