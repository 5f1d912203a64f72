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


def test_a_burst_of_new_non_english_queries_leaves_english_answered(tmp_path, capsys):
    """The translation-burst mode (issue 23's case) runs end to end with a random-weight tiny MarianMT."""
    arguments = ["--quick", "--out", str(tmp_path), "--translation-model", "random", "--burst", "1"]
    assert load.main(arguments) == 0
    result = json.loads((tmp_path / "translation_burst.json").read_text())
    (row,) = result["rows"]
    assert row["burst"] == 1 and row["english_ms"] > 0 and row["foreign_max_ms"] >= row["foreign_p50_ms"] > 0
    assert row["foreign_translated"].endswith("of 8") and row["repeated_translated"].endswith("of 8")
    assert "| burst | english_ms |" in capsys.readouterr().out
