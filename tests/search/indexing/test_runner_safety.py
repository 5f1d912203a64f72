"""A build never writes a wrong bundle: the shard cache follows the catalog's content, product ids are checked
before encoding, images given by path are read, unreadable images stay out of the vector search, and whatever
fails leaves `--out` (and the Hub) as they were."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import shutil
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import index_build
from search.bundle import INDEX_FILE, MANIFEST_FILE, PRODUCTS_FILE
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.errors import InvalidQueryError
from search.fixtures.synthetic import FEATURES, generate_rows, jpeg_bytes
from search.ranking.index import VectorIndex
from tests.helpers import FakeHub, build_args, rows_with_image_paths, write_catalog

SIZE = 40


def stored_vectors(bundle: Path) -> np.ndarray:
    index = VectorIndex.load(bundle, {"type": "flat", "params": {}})
    return index.vectors(np.arange(len(index)))


def folder_digest(folder: Path) -> str:
    """One hash of every file's name and bytes: equal digests mean the folder was left exactly as it was."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def previous_bundle(bundle_dir, tmp_path) -> Path:
    """`--out` already holds a good bundle, as it does when a maintainer rebuilds."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "out"))


def assert_nothing_written(out: Path, digest: str, hub: FakeHub, tmp_path: Path) -> None:
    assert folder_digest(out) == digest
    assert len(SearchEngine.load(out).products) > 0
    assert hub.calls == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.")]


# --- the shard cache follows the catalog's content ---------------------------------------------------------------


def replace_one_photo(rows: list[dict]) -> list[dict]:
    rows = copy.deepcopy(rows)
    rows[5]["image"] = {"bytes": jpeg_bytes(Image.new("RGB", (60, 80), (10, 200, 10))), "path": None}
    return rows


def rename_one_product(rows: list[dict]) -> list[dict]:
    rows = copy.deepcopy(rows)
    rows[5]["productDisplayName"] = "Completely different golden evening gown"
    return rows


CHANGES = {
    "other-products": lambda rows: generate_rows(SIZE, seed=7),
    "one-photo-replaced": replace_one_photo,
    "one-name-changed": rename_one_product,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_resume_after_the_catalog_changed_in_place_encodes_the_new_catalog(tiny_model, tmp_path, caplog, change):
    rows = generate_rows(SIZE)
    changed = CHANGES[change](rows)
    catalog, out = tmp_path / "catalog", tmp_path / "out"
    args = build_args(catalog, tiny_model, out, "--keep-cache", "--doc-image-weight", "0.5")
    datasets.Dataset.from_list(rows, features=FEATURES).save_to_disk(str(catalog))
    assert index_build.main(args) == 0
    shutil.rmtree(catalog)
    datasets.Dataset.from_list(changed, features=FEATURES).save_to_disk(str(catalog))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert "Resuming" not in caplog.text
    fresh = tmp_path / "fresh"
    assert index_build.main(build_args(catalog, tiny_model, fresh, "--doc-image-weight", "0.5")) == 0
    np.testing.assert_allclose(stored_vectors(out), stored_vectors(fresh), atol=1e-6)


def test_an_unchanged_catalog_encodes_nothing_and_a_full_rebuild_resumes(tiny_model, tmp_path, caplog):
    catalog = write_catalog(generate_rows(SIZE), tmp_path / "catalog")
    args = build_args(catalog, tiny_model, tmp_path / "out", "--keep-cache")
    assert index_build.main(args) == 0
    with caplog.at_level(logging.INFO):
        assert index_build.main(args) == 0
    assert f"{SIZE} products, 0 encoded, {SIZE} reused" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert index_build.main([*args, "--full"]) == 0
    assert f"Resuming: {SIZE} of {SIZE} products already encoded" in caplog.text
    kept = tmp_path / "out.cache"
    assert list(kept.rglob("shard-*.npz")) and not list(kept.rglob("document-vectors.npy"))


# --- product ids are checked before encoding ---------------------------------------------------------------------


def duplicate_id(rows):
    rows[7]["id"] = rows[3]["id"]
    return rows, "int64", ["id 10003", "rows 3 and 7"]


def fractional_id(rows):
    for row in rows:
        row["id"] = float(row["id"])
    rows[5]["id"] = 10005.5
    return rows, "float64", ["row 5", "10005.5", "whole number"]


def missing_id(rows):
    rows[2]["id"] = None
    return rows, "int64", ["row 2", "no id"]


def text_id(rows):
    for row in rows:
        row["id"] = str(row["id"])
    rows[4]["id"] = "12abc"
    return rows, "string", ["row 4", "'12abc'", "whole number"]


def huge_id(rows):
    for row in rows:
        row["id"] = float(row["id"])
    rows[6]["id"] = 1e20
    return rows, "float64", ["row 6", "whole number"]


BAD_IDS = {
    "duplicate": duplicate_id,
    "fractional": fractional_id,
    "missing": missing_id,
    "text": text_id,
    "huge": huge_id,
}


@pytest.mark.parametrize("case", sorted(BAD_IDS))
def test_bad_product_ids_fail_before_encoding_and_name_the_rows(
    tiny_model, tmp_path, previous_bundle, fake_hub, caplog, case
):
    rows, id_type, fragments = BAD_IDS[case](generate_rows(SIZE))
    catalog = write_catalog(rows, tmp_path / "catalog", id_type)
    digest = folder_digest(previous_bundle)
    args = build_args(catalog, tiny_model, previous_bundle, "--push-to", "tester/index")
    assert index_build.main(args) == 1
    for fragment in fragments:
        assert fragment in caplog.text
    assert not (tmp_path / "out.cache").exists(), "nothing may be encoded before the ids are checked"
    assert_nothing_written(previous_bundle, digest, fake_hub, tmp_path)


@pytest.mark.parametrize("engine", ["default", "ray"])
def test_bad_years_fail_before_encoding_with_either_engine(tiny_model, tmp_path, previous_bundle, caplog, engine):
    """inf was refused only after the whole encode ("Float value inf was truncated converting to int32"), with no
    row or column named, also with --engine ray."""
    rows = generate_rows(SIZE)
    rows[6]["year"] = float("inf")
    rows[9]["year"] = 1e20
    catalog = write_catalog(rows, tmp_path / "catalog")
    table = pq.read_table(catalog / "train.parquet")
    years = pa.array([row["year"] for row in rows], pa.float64())
    pq.write_table(table.set_column(table.schema.get_field_index("year"), "year", years), catalog / "train.parquet")
    digest = folder_digest(previous_bundle)
    assert index_build.main(build_args(catalog, tiny_model, previous_bundle, "--engine", engine)) == 1
    assert "column 'year', row 6: inf is not a year" in caplog.text and "row 9: 1e+20" in caplog.text
    assert not (tmp_path / "out.cache").exists(), "nothing may be encoded before the values are checked"
    assert folder_digest(previous_bundle) == digest


def test_several_bad_ids_are_all_named(tiny_model, tmp_path, caplog):
    rows = generate_rows(SIZE)
    rows[1]["id"], rows[9]["id"], rows[30]["id"] = None, rows[0]["id"], None
    catalog = write_catalog(rows, tmp_path / "catalog")
    assert index_build.main(build_args(catalog, tiny_model, tmp_path / "out")) == 1
    for fragment in ("row 1", "row 30", "rows 0 and 9"):
        assert fragment in caplog.text


def test_whole_number_ids_stored_as_floats_or_text_are_accepted(tiny_model, tmp_path):
    rows = generate_rows(SIZE)
    as_text = [{**row, "id": str(row["id"])} for row in rows]
    as_float = [{**row, "id": float(row["id"])} for row in rows]
    for name, changed, id_type in (("text", as_text, "string"), ("float", as_float, "float64")):
        catalog = write_catalog(changed, tmp_path / name, id_type)
        assert index_build.main(build_args(catalog, tiny_model, tmp_path / f"out-{name}")) == 0
        assert SearchEngine.load(tmp_path / f"out-{name}").products.ids.tolist() == [row["id"] for row in rows]


# --- images given by path, unreadable images ---------------------------------------------------------------------


def test_images_given_by_path_are_read_from_the_dataset(tiny_model, tmp_path):
    embedded = write_catalog(generate_rows(SIZE), tmp_path / "embedded")
    rows = rows_with_image_paths(generate_rows(SIZE), tmp_path / "by-path")
    by_path = write_catalog(rows, tmp_path / "by-path")
    assert index_build.main(build_args(embedded, tiny_model, tmp_path / "a")) == 0
    assert index_build.main(build_args(by_path, tiny_model, tmp_path / "b")) == 0
    np.testing.assert_allclose(stored_vectors(tmp_path / "b"), stored_vectors(tmp_path / "a"), atol=1e-6)
    engine = SearchEngine.load(tmp_path / "b")
    photo = tmp_path / "by-path" / "images" / "10007.jpg"
    assert engine.product_photo_bytes(10007) == photo.read_bytes()


def test_image_paths_outside_the_dataset_folder_are_never_read_into_the_bundle(tiny_model, tmp_path, caplog):
    """A catalog named `../secret/private.jpg` and it was stored byte for byte in products.parquet (so served and
    pushed); a FIFO hung the build. Such products are left without a photo, each with its reason."""
    secret = tmp_path / "secret" / "private.jpg"
    secret.parent.mkdir()
    secret.write_bytes(jpeg_bytes(Image.new("RGB", (60, 80), (1, 2, 3))))
    rows = rows_with_image_paths(generate_rows(SIZE), tmp_path / "catalog")
    rows[0]["image"]["path"] = "../secret/private.jpg"
    rows[1]["image"]["path"] = str(tmp_path / "catalog" / "images" / f"{rows[1]['id']}.jpg")
    rows[2]["image"]["path"] = "images/pipe.jpg"
    os.mkfifo(tmp_path / "catalog" / "images" / "pipe.jpg")
    catalog = write_catalog(rows, tmp_path / "catalog")
    out = tmp_path / "out"
    assert index_build.main(build_args(catalog, tiny_model, out, "--max-unreadable-share", "0.1")) == 0
    engine = SearchEngine.load(out)
    assert [engine.product_photo_bytes(row["id"]) for row in rows[:3]] == [None, None, None]
    assert engine.product_photo_bytes(rows[3]["id"]) is not None
    for path in out.rglob("*"):
        assert not path.is_file() or secret.read_bytes() not in path.read_bytes()
    assert "has '..'" in caplog.text and "is absolute" in caplog.text and "is not a regular file" in caplog.text


def catalog_with_unreadable_images(folder: Path) -> tuple[Path, dict[int, str]]:
    """40 products of which 5 have no usable photo: corrupt bytes, zero bytes, no image at all, a missing file, and
    a 1-bit PNG of 8 × 100,000 px (a few hundred bytes that the model's resize would make 40 million pixels)."""
    rows = generate_rows(SIZE)
    rows[3]["image"] = {"bytes": b"this is not a photo", "path": None}
    rows[8]["image"] = {"bytes": b"", "path": None}
    rows[12]["image"] = None
    rows[20]["image"] = {"bytes": None, "path": "images/missing.jpg"}
    thin = io.BytesIO()
    Image.new("1", (8, 100_000), 1).save(thin, format="PNG")
    rows[14]["image"] = {"bytes": thin.getvalue(), "path": None}
    bad = {rows[row]["id"]: rows[row]["productDisplayName"] or "" for row in (3, 8, 12, 14, 20)}
    return write_catalog(rows, folder), bad


@pytest.fixture(scope="module")
def unreadable_bundle(tiny_model, tmp_path_factory) -> tuple[Path, dict[int, str], str]:
    """A bundle built from a catalog with 5 unreadable photos out of 40, allowed by --max-unreadable-share."""
    folder = tmp_path_factory.mktemp("unreadable")
    catalog, bad = catalog_with_unreadable_images(folder / "catalog")
    handler = logging.Handler()
    messages: list[str] = []
    handler.emit = lambda record: messages.append(record.getMessage())
    logging.getLogger().addHandler(handler)
    try:
        code = index_build.main(build_args(catalog, tiny_model, folder / "out", "--max-unreadable-share", "0.2"))
    finally:
        logging.getLogger().removeHandler(handler)
    assert code == 0
    return folder / "out", bad, "\n".join(messages)


def test_unreadable_images_are_reported_by_id(unreadable_bundle):
    _, bad, log = unreadable_bundle
    for product_id in bad:
        assert str(product_id) in log
    assert "5 of 40" in log and "its long side is 12,500 times its short side" in log


def test_unreadable_images_are_left_out_of_every_vector_search(unreadable_bundle):
    folder, bad, _ = unreadable_bundle
    engine = SearchEngine.load(folder)
    white = Image.new("RGB", (60, 80), "white")
    good = next(int(i) for i in engine.products.ids if int(i) not in bad)
    responses = [
        engine.search_image(white, k=SIZE),
        engine.search_text("white shirt", k=SIZE),
        engine.search_vector(engine.embed_image(white), k=SIZE),
        engine.search_composed(white, "plain white", k=SIZE),
        engine.more_like_this(good, k=SIZE),
    ]
    for response in responses:
        assert not set(response.ids) & set(bad)
        assert len(response) == SIZE - len(bad) - (1 if response is responses[-1] else 0)


def test_products_without_a_readable_image_are_found_by_keywords_and_filters(unreadable_bundle):
    folder, bad, _ = unreadable_bundle
    engine = SearchEngine.load(folder)
    for product_id, name in bad.items():
        product = engine.product(product_id)
        words = name or f"{product['baseColour']} {product['articleType']}"
        filters = {"articleType": product["articleType"], "baseColour": product["baseColour"]}
        assert product_id in engine.search_text(words, k=SIZE, semantic_weight=0.0).ids
        assert product_id in engine.search_text(words, k=SIZE, filters=filters, semantic_weight=0.0).ids
        assert engine.product_photo_bytes(product_id) is None


def test_more_like_a_product_without_a_readable_image_is_explained(unreadable_bundle):
    folder, bad, _ = unreadable_bundle
    engine = SearchEngine.load(folder)
    with pytest.raises(InvalidQueryError, match="no readable photo"):
        engine.more_like_this(next(iter(bad)))


def test_the_default_share_of_unreadable_images_fails_the_build(
    tiny_model, tmp_path, previous_bundle, caplog, monkeypatch
):
    catalog, _ = catalog_with_unreadable_images(tmp_path / "catalog")
    digest = folder_digest(previous_bundle)
    encoded: list[int] = []
    monkeypatch.setattr(Encoder, "encode_pixels", lambda self, pixels: encoded.append(len(pixels)))
    assert index_build.main(build_args(catalog, tiny_model, previous_bundle)) == 1
    # The three photos the catalog pass cannot read stop the build before anything is encoded.
    assert "3 of 40 products" in caplog.text and "--max-unreadable-share" in caplog.text
    assert encoded == []
    assert folder_digest(previous_bundle) == digest


def test_images_given_by_paths_that_do_not_exist_fail_the_build(
    tiny_model, tmp_path, previous_bundle, fake_hub, caplog
):
    rows = rows_with_image_paths(generate_rows(SIZE), tmp_path / "catalog")
    shutil.rmtree(tmp_path / "catalog" / "images")
    catalog = write_catalog(rows, tmp_path / "catalog")
    digest = folder_digest(previous_bundle)
    assert index_build.main(build_args(catalog, tiny_model, previous_bundle, "--push-to", "tester/index")) == 1
    assert "40 of 40 products" in caplog.text and "images/10000.jpg" in caplog.text
    assert_nothing_written(previous_bundle, digest, fake_hub, tmp_path)


# --- an empty catalog --------------------------------------------------------------------------------------------


def empty_saved(folder: Path) -> None:
    datasets.Dataset.from_list(generate_rows(2), features=FEATURES).select([]).save_to_disk(str(folder))


def empty_parquet(folder: Path) -> None:
    write_catalog(generate_rows(2), folder)
    table = pq.read_table(folder / "train.parquet")
    pq.write_table(table.slice(0, 0), folder / "train.parquet")


def empty_parquet_from_datasets(folder: Path) -> None:
    folder.mkdir()
    datasets.Dataset.from_list(generate_rows(2), features=FEATURES).select([]).to_parquet(str(folder / "x.parquet"))


@pytest.mark.parametrize("make", [empty_saved, empty_parquet, empty_parquet_from_datasets])
def test_an_empty_catalog_says_it_has_no_rows(tiny_model, tmp_path, previous_bundle, caplog, make):
    make(tmp_path / "catalog")
    digest = folder_digest(previous_bundle)
    assert index_build.main(build_args(tmp_path / "catalog", tiny_model, previous_bundle)) == 1
    assert "has no rows" in caplog.text
    assert "Could not load" not in caplog.text
    assert folder_digest(previous_bundle) == digest


# --- `--out` never holds a bundle that does not load, and nothing unloadable is pushed ----------------------------


def test_a_bundle_that_would_not_load_is_never_written_or_pushed(
    catalog_dir, tiny_model, tmp_path, previous_bundle, fake_hub, monkeypatch, caplog
):
    """A fault while writing (here: the index file comes out truncated) is caught before `--out` changes."""

    def truncated(index, folder):
        (folder / INDEX_FILE).write_bytes(b"IxFI" + b"\0" * 10)

    monkeypatch.setattr(VectorIndex, "save", truncated)
    digest = folder_digest(previous_bundle)
    assert index_build.main(build_args(catalog_dir, tiny_model, previous_bundle, "--push-to", "tester/index")) == 1
    assert "corrupt or truncated" in caplog.text
    assert_nothing_written(previous_bundle, digest, fake_hub, tmp_path)


def test_push_only_refuses_a_bundle_that_does_not_load(bundle_copy, fake_hub, caplog):
    table = pq.read_table(bundle_copy / PRODUCTS_FILE)
    ids = table.column("id").to_pylist()
    ids[1] = ids[0]
    pq.write_table(table.set_column(0, "id", pa.array(ids)), bundle_copy / PRODUCTS_FILE)
    manifest = json.loads((bundle_copy / MANIFEST_FILE).read_text())
    data = (bundle_copy / PRODUCTS_FILE).read_bytes()
    manifest["files"][PRODUCTS_FILE] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (bundle_copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert index_build.main(["--out", str(bundle_copy), "--push-to", "tester/index", "--push-only"]) == 1
    assert "duplicate" in caplog.text
    assert fake_hub.calls == []
