"""The flood benchmark runs end to end (quick mode) against the real app: with the budget off and at its default,
the clients at a normal pace meet no error and no refusal, and the budget refuses the flooder."""

import json

import pytest

from benchmarks import load

pytestmark = pytest.mark.system


def test_quick_flood_run_refuses_only_the_flooder(tmp_path, capsys):
    arguments = ["--flood", "--quick", "--clients", "3", "--seconds", "10", "--out", str(tmp_path)]
    assert load.main(arguments) == 0
    result = json.loads((tmp_path / "flood.json").read_text())
    off, budget = result["rows"]
    assert off["budget"] == "off" and off["flood_refused"] == 0
    assert budget["flood_refused"] > 0
    for row in (off, budget):
        assert row["normal_requests"] > 0 and row["flood_served"] > 0
        assert row["normal_refused"] == 0 and row["normal_errors"] == 0
        assert row["normal_p50_ms"] <= row["normal_p99_ms"]
    assert "| budget | seconds |" in capsys.readouterr().out
