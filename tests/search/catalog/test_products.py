"""The products table: Arrow metadata equals the pandas row; only the schema's columns are kept and typed; serving
never builds a pandas frame."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from search.catalog.photos import PhotoShards, write_photo_shards
from search.catalog.products import PRODUCTS_FILE, ProductTable, products_frame, products_from_catalog
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
    expected = [row["image"]["bytes"] if row["image"] else None for row in rows]
    shards = PhotoShards(tmp_path / "staged", 70, 32, write_photo_shards(pa.array(expected), tmp_path / "staged", 32))
    products = ProductTable.from_catalog(pa.Table.from_pylist(rows, schema=FEATURES.arrow_schema), shards)
    assert products.describe_photos() == {"folder": "photos", "files": 3, "rows_per_file": 32}
    (tmp_path / "bundle").mkdir()
    products.save(tmp_path / "bundle")
    assert pq.read_table(tmp_path / "bundle" / PRODUCTS_FILE).column("image_bytes").null_count == 70
    loaded = ProductTable.load(tmp_path / "bundle", products.describe_photos(), 70)
    assert [loaded.image_bytes(row) for row in range(70)] == expected
    assert loaded.image_bytes(9) is None and loaded.image_bytes(10) == rows[10]["image"]["bytes"]
    np.testing.assert_array_equal(ProductTable.verify(tmp_path / "bundle", products.describe_photos(), 70), loaded.ids)
    with pytest.raises(BundleError, match="70 photos for 69 products"):
        ProductTable(products_frame(rows[:69]), shards)


def test_photo_files_saved_inline_are_streamed_into_the_table(tmp_path):
    """A build's photo files below --photos-inline-max-mb end up in products.parquet, as the table of the rows."""
    rows = generate_rows(70, seed=3)
    rows[4]["image"] = None
    expected = [row["image"]["bytes"] if row["image"] else None for row in rows]
    shards = PhotoShards(tmp_path / "staged", 70, 32, write_photo_shards(pa.array(expected), tmp_path / "staged", 32))
    catalog = pa.Table.from_pylist(rows, schema=FEATURES.arrow_schema)
    products = ProductTable.from_catalog(catalog, shards, inline_photos=True)
    assert products.describe_photos() is None
    (tmp_path / "bundle").mkdir()
    products.save(tmp_path / "bundle")
    assert not (tmp_path / "bundle" / "photos").exists()
    loaded = ProductTable.load(tmp_path / "bundle", None, 70)
    assert loaded.table.equals(ProductTable.from_catalog(catalog).table)
    assert ProductTable.verify(tmp_path / "bundle", None, 70).tolist() == loaded.ids.tolist()


def test_verify_refuses_what_load_refuses(tmp_path):
    ProductTable.from_rows(generate_rows(20)).save(tmp_path)
    with pytest.raises(BundleError, match="has 20 rows; the manifest says 21 products"):
        ProductTable.verify(tmp_path, None, 21)
    table = pq.read_table(tmp_path / PRODUCTS_FILE)
    pq.write_table(table.set_column(0, "id", pa.array([1] * 20, pa.int64())), tmp_path / PRODUCTS_FILE)
    with pytest.raises(BundleError, match="duplicate product ids"):
        ProductTable.verify(tmp_path, None, 20)
    pq.write_table(table.drop_columns(["year"]), tmp_path / PRODUCTS_FILE)
    with pytest.raises(BundleError, match="lacks column\\(s\\): year"):
        ProductTable.verify(tmp_path, None, 20)
