"""scripts/make_real_bundle.py on a small folder laid out like ../shared/data (photos named by id, KAGL ground-truth
files), generated here: the named products become a bundle through index_build.py, gender read from the names."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from scripts.make_real_bundle import gender_from_name, main
from search import SearchEngine
from search.evaluate.protocols import LABEL_PROTOCOLS
from search.fixtures.synthetic import generate_rows

NAMED = {1: "Puma Men Red Tshirt", 2: "ADIDAS Women's Who Was That Yellow T-shirt", 3: "Titan Silver Watch"}


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory) -> Path:
    """Six products' photos and labels in the reference data's layout; three of them with a real name."""
    folder = tmp_path_factory.mktemp("shared-data")
    (folder / "product-images").mkdir()
    truth = {kagl: defaultdict(dict) for kagl in LABEL_PROTOCOLS.values()}
    for product_id, row in enumerate(generate_rows(6), start=1):
        (folder / "product-images" / f"{product_id}.jpg").write_bytes(row["image"]["bytes"])
        for column, kagl in LABEL_PROTOCOLS.items():
            if row[column]:
                truth[kagl][row[column]][str(product_id)] = 1
    ground_truth = folder / "kagl-ground-truth"
    ground_truth.mkdir()
    for kagl, queries in truth.items():
        (ground_truth / f"ground_truth_{kagl}-image+text.json").write_text(json.dumps(queries))
    names = {name: {str(product_id): 1} for product_id, name in NAMED.items()}
    (ground_truth / "ground_truth_text-image.json").write_text(json.dumps(names))
    return folder


def test_the_named_products_become_a_bundle_with_their_real_photos(shared_data, tmp_path):
    assert main(["--data", str(shared_data), "--out", str(tmp_path / "real"), "--model", "clip-tiny"]) == 0
    engine = SearchEngine.load(tmp_path / "real" / "bundle")
    assert sorted(engine.products.ids.tolist()) == sorted(NAMED)
    for product_id, name in NAMED.items():
        product = engine.product(product_id)
        assert product["productDisplayName"] == name and product["gender"] == (gender_from_name(name) or "")
        assert (
            engine.product_photo_bytes(product_id)
            == (shared_data / "product-images" / f"{product_id}.jpg").read_bytes()
        )
    assert engine.model_id == str(tmp_path.resolve() / "real" / "clip-tiny-random")


def test_all_keeps_every_photo(shared_data, tmp_path):
    assert main(["--data", str(shared_data), "--out", str(tmp_path / "all"), "--model", "clip-tiny", "--all"]) == 0
    assert SearchEngine.load(tmp_path / "all" / "bundle").num_products == 6


def test_gender_is_read_from_the_name_where_it_says_it():
    assert gender_from_name("ADIDAS Women's Who Was That Yellow T-shirt") == "Women"
    assert gender_from_name("Puma Men Red Tshirt") == "Men"
    assert gender_from_name("Titan Silver Watch") is None and gender_from_name(None) is None


def test_a_folder_without_the_reference_data_is_refused(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr().err
    assert f"Reference data not found at {tmp_path / 'product-images'}, {tmp_path / 'kagl-ground-truth'}" in said
