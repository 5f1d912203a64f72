"""The load script runs end to end (quick mode) against the real app: mixed traffic with result photo downloads, no
errors over a run longer than the upload sweep age, memory reported."""

import json

import pytest

from benchmarks import load

pytestmark = pytest.mark.system


def test_quick_load_run_has_no_errors_past_the_sweep_age_and_reports_memory(tmp_path, capsys):
    """The app sweeps uploads older than 3 s; photos handed out in round 1 are downloaded again in round 2."""
    arguments = ["--quick", "--out", str(tmp_path), "--requests", "10", "--rounds", "2", "--clients", "3"]
    assert load.main([*arguments, "--upload-max-age", "3"]) == 0
    result = json.loads((tmp_path / "load.json").read_text())
    assert [row["round"] for row in result["rows"]] == [1, 2]
    for row in result["rows"]:
        assert row["requests"] == 10 and row["errors"] == 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["peak_rss_mb"] > 50 and row["server_cpu_ms_per_request"] > 0
        assert row["photos"] == 10 * load.PHOTOS_PER_ANSWER
    assert result["rows"][-1]["old_photos"] > 0, "photos older than the sweep age were downloaded again"
    assert result["settings"]["kinds"] == list(load.KINDS) and result["settings"]["upload_max_age_s"] == 3
    assert "| round | requests |" in capsys.readouterr().out
