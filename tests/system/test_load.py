"""The load script runs end to end (quick mode) against the real app: mixed traffic, no errors, memory reported."""

import json

import pytest

from benchmarks import load

pytestmark = pytest.mark.system


def test_quick_load_run_has_no_errors_and_reports_memory(tmp_path, capsys):
    assert load.main(["--quick", "--out", str(tmp_path), "--requests", "10", "--rounds", "2", "--clients", "3"]) == 0
    result = json.loads((tmp_path / "load.json").read_text())
    assert [row["round"] for row in result["rows"]] == [1, 2]
    for row in result["rows"]:
        assert row["requests"] == 10 and row["errors"] == 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["peak_rss_mb"] > 50
    assert result["settings"]["kinds"] == list(load.KINDS)
    assert "| round | requests |" in capsys.readouterr().out
