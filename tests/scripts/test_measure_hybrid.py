"""scripts/measure_hybrid.py on a generated catalog and a tiny model: the held-out bundle built and judged over
every α and image weight, the sweeps and the recommendation written to its report."""

import json

from scripts.measure_hybrid import main
from search.training.heldout import IMAGE_WEIGHTS, SEMANTIC_WEIGHTS


def test_the_sweeps_cover_every_weight_and_recommend_one(catalog_dir, tiny_model, tmp_path, capsys):
    work = tmp_path / "hybrid"
    args = ["--model", str(tiny_model), "--heldout", str(catalog_dir), "--work", str(work), "--queries", "6"]
    assert main(args) == 0
    report = json.loads((work / "report.json").read_text())
    assert {row["α"] for row in report["text_sweep"]} >= set(SEMANTIC_WEIGHTS) - {0.0}
    assert {row["image weight"] for row in report["composed_sweep"]} >= set(IMAGE_WEIGHTS) - {1.0}
    assert 0 <= report["recommended"]["semantic_weight"] <= 1
    assert report["load_average_1min"]["samples"] >= 1 and (work / "eval" / "bundle").is_dir()
    assert "Recommended (mean nDCG@10)" in capsys.readouterr().out


def test_a_missing_model_folder_is_said(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "none"), "--heldout", str(tmp_path)]) == 2
    assert "Need a model folder" in capsys.readouterr().err
