"""The GPU build benchmark's smoke run on the CPU: every stage and pipeline run measured, a bound named."""

from __future__ import annotations

import json

from benchmarks import gpu_build


def test_quick_run_reports_every_stage_and_the_bound(tmp_path, capsys):
    out = tmp_path / "gpu_build.json"
    assert gpu_build.main(["--quick", "--device", "cpu", "--workers", "0,1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [row["stage"].split(" ")[0] for row in result["stages"]] == [
        "decode",
        "preprocess",
        "decode",
        "host",
        "image",
        "name",
    ]
    assert all(row["images_per_s"] > 0 for row in result["stages"])
    assert [run["workers"] for run in result["pipeline"]] == [0, 1]
    assert all(run["images_per_s"] > 0 and run["wall_s"] > 0 for run in result["pipeline"])
    assert result["bound"] in {"encoder (GPU)", "decode + preprocess workers (CPU)"}
    assert "bound by the" in capsys.readouterr().out
