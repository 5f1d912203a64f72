"""A small folder laid out like ../shared/data (photos named by id, KAGL ground-truth files), generated here: the
scripts that read the real reference data run on it in the tests."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def shared_names() -> dict[int, str]:
    """The real names of `shared_data`'s named products, by id."""
    return NAMED
