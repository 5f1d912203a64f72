"""benchmarks/gpu_finetune.py: the smoke run on CPU trains with the repository's loss and prints its table."""

import json

import pytest

from benchmarks import gpu_finetune


def test_smoke_run_prints_a_row_per_precision(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert gpu_finetune.main(["--quick", "--device", "cpu", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["precision"] for row in rows] == ["fp32", "bf16"]
    assert all(row["batch"] == 8 and row["steps_per_s"] > 0 and row["finite"] for row in rows)
    printed = capsys.readouterr().out
    assert "| fp32 | 8 |" in printed and "| bf16 | 8 |" in printed


def test_it_times_the_training_loss_of_the_repository():
    loss = gpu_finetune.training_loss()
    assert loss.multi_field_loss.__code__.co_filename == str(gpu_finetune.LOSS_FILE)


def test_fp16_is_refused_on_cpu(capsys):
    with pytest.raises(SystemExit) as exit_:
        gpu_finetune.main(["--quick", "--device", "cpu", "--precisions", "fp16"])
    assert exit_.value.code == 2
    assert "fp16 training needs CUDA" in capsys.readouterr().err
