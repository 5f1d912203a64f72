"""scripts/measure_int8.py on the test bundle: both precisions evaluated on the same float32 bundle, R@10 per
protocol and the top-10 overlap written to its report."""

import json

from scripts.measure_int8 import main


def test_int8_is_judged_against_float32_on_the_same_bundle(bundle_dir, tmp_path, capsys):
    out = tmp_path / "int8.json"
    args = ["--bundle", str(bundle_dir), "--protocol", "text,image", "--queries", "8", "--overlap-queries", "6"]
    assert main([*args, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["dense_R@10"]) == {"float32", "int8"}
    assert set(report["dense_R@10"]["float32"]) == set(report["dense_R@10"]["int8"]) >= {"text"}
    overlap = report["top10_overlap"]
    assert 0 <= overlap["text"] <= 1 and 0 <= overlap["image"] <= 1 and overlap["text_queries"] == 6
    assert "top-10 overlap with float32" in capsys.readouterr().out
