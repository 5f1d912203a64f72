"""Before/after evaluation: the held-out bundle is built and judged by search.evaluate, reports are reused only
for the same key, and the table shows dense, keyword and the hybrid mix."""

import math

import pytest

import search.training.heldout as heldout
from search.catalog.schema import load_catalog
from search.evaluate import EvalConfig, evaluate
from search.fixtures.synthetic import generate_rows
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT
from search.training.heldout import (
    HYBRID_WEIGHT,
    EvalSettings,
    compare,
    comparison_table,
    evaluate_model,
    write_heldout_catalog,
)
from tests.helpers import rows_with_image_paths, write_catalog

SETTINGS = EvalSettings("text,articleType,image-articleType,composed-baseColour", 50, 0, 16, None, 0)


@pytest.fixture(scope="module")
def report(engine) -> dict:
    config = EvalConfig(
        index="-",
        protocol=SETTINGS.protocol,
        queries=50,
        latency_queries=0,
        doc_image_weights=(1.0,),
        semantic_weights=(0.0, HYBRID_WEIGHT, 1.0),
    )
    return {"results": evaluate(engine, config).results}


def test_compare_shows_dense_keyword_and_the_hybrid_mix(report):
    rows = compare(report, report)
    methods = {(row["protocol"], row["method"]) for row in rows}
    assert methods == {
        ("text", "dense"),
        ("text", "keyword"),
        ("text", f"hybrid α={HYBRID_WEIGHT:g}"),
        ("articleType", "dense"),
        ("articleType", "keyword"),
        ("articleType", f"hybrid α={HYBRID_WEIGHT:g}"),
        ("image-articleType", "dense"),
        ("composed-baseColour", f"dense (image weight {DEFAULT_IMAGE_WEIGHT:g})"),
        ("composed-baseColour", f"hybrid α={HYBRID_WEIGHT:g} (image weight {DEFAULT_IMAGE_WEIGHT:g})"),
    }
    assert all(row["before"] == row["after"] for row in rows)
    assert {row["kind"] for row in rows} == {"text", "photo", "photo + text"}


def test_compare_pairs_each_result_with_the_same_method_before(report):
    before = {"results": [r | {"metrics": {**r["metrics"], "R@10": -1.0}} for r in report["results"]]}
    rows = compare(before, report)
    assert rows and all(row["before"]["R@10"] == -1.0 for row in rows)
    assert all(row["after"]["R@10"] >= 0 for row in rows)


def test_table_puts_before_next_to_after():
    row = {"protocol": "text", "kind": "text", "method": "dense", "queries": 9}
    table = comparison_table(
        [
            row
            | {
                "before": {"R@1": 0.1, "R@10": 0.25, "nDCG@10": math.nan},
                "after": {"R@1": 0.2, "R@10": 0.5, "nDCG@10": 0.3},
            }
        ]
    )
    assert "| text | text | dense | 9 | 0.100 → 0.200 | 0.250 → 0.500 | – → 0.300 |" in table.splitlines()


def test_reports_are_reused_for_the_same_key_only(catalog_dir, tiny_model, tmp_path, monkeypatch):
    table, source = load_catalog(str(catalog_dir))
    catalog = write_heldout_catalog(table, range(0, 240, 6), source.root, tmp_path / "heldout")
    assert len(load_catalog(str(catalog))[0]) == 40
    first = evaluate_model(str(tiny_model), None, catalog, tmp_path / "eval", SETTINGS, {"heldout": "a"})
    assert {r["protocol"] for r in first["results"]} == {
        "text",
        "articleType",
        "image-articleType",
        "composed-baseColour",
    }
    assert (tmp_path / "eval" / "bundle" / "manifest.json").exists()

    def no_build(config):
        raise AssertionError("rebuilt although the report was cached")

    monkeypatch.setattr(heldout, "run_build", no_build)
    assert evaluate_model(str(tiny_model), None, catalog, tmp_path / "eval", SETTINGS, {"heldout": "a"}) == first
    with pytest.raises(AssertionError, match="rebuilt"):
        evaluate_model(str(tiny_model), None, catalog, tmp_path / "eval", SETTINGS, {"heldout": "b"})


def test_heldout_photos_given_by_path_are_stored_as_bytes(tmp_path):
    rows = rows_with_image_paths(generate_rows(12), tmp_path / "catalog")
    rows[4]["image"] = {"bytes": None, "path": "images/missing.jpg"}
    table, source = load_catalog(str(write_catalog(rows, tmp_path / "catalog")))
    heldout, _ = load_catalog(str(write_heldout_catalog(table, [2, 4, 7], source.root, tmp_path / "heldout")))
    images = heldout["image"]
    assert images[0] == {"bytes": (tmp_path / "catalog" / "images" / "10002.jpg").read_bytes(), "path": None}
    assert images[1] is None  # unreadable: the build keeps it out of the vector search
    assert heldout["id"] == [10002, 10004, 10007]
