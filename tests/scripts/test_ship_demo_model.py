"""scripts/ship_demo_model.py on a run folder laid out like scripts.finetune_shared_data's (a tiny random model stands
in for the trained one): the model's files, ONNX towers the app adopts without exporting, and a card with the exact
command; and the model that ships in assets/demo/small-clip is such a folder."""

import json
import shutil

import pytest

from scripts.ship_demo_model import main
from search.encoding.onnx_export import adopt_export, library_versions
from search.encoding.onnx_files import OnnxExport
from search.indexing.default_index import DEMO_MODEL

COMMAND = "python -m scripts.finetune_shared_data --data ../shared/data --work build/x --epochs 40"
REPORT = {
    "machine": "x86_64, 2 CPUs",
    "load_average_1min": {"mean": 9.5, "max": 20.0, "samples": 12},
    "wall_minutes": 30.0,
    "training": {"seconds": 1500.0, "steps": 2400},
}


@pytest.fixture
def run(tiny_model, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(tiny_model, folder / "model")
    (folder / "model" / "README.md").write_text("# Fine-tuned\n\n| protocol | before → after |\n")
    (folder / "model" / "finetune.json").write_text("{}")
    (folder / "report.json").write_text(json.dumps(REPORT))
    return folder


def test_a_run_ships_as_model_files_onnx_towers_and_a_card(run, tmp_path):
    out = tmp_path / "small-clip"
    history = "Interrupted once and resumed from its checkpoint by the same command."
    assert main(["--run", str(run), "--out", str(out), "--command", COMMAND, "--history", history]) == 0
    assert (out / "model.safetensors").read_bytes() == (run / "model" / "model.safetensors").read_bytes()
    assert not (out / "finetune.json").exists(), "the run's own files stay out"
    card = (out / "README.md").read_text()
    assert card.startswith("# Fine-tuned") and COMMAND in card and "load average 9.5" in card and history in card
    assert OnnxExport.open(out / "onnx").info["versions"] == library_versions()
    assert adopt_export(out / "onnx", out, tmp_path / "cache"), "the app adopts the shipped towers"


def test_a_run_without_a_finished_model_is_refused(run, tmp_path, capsys):
    (run / "model" / "model.safetensors").unlink()
    assert main(["--run", str(run), "--out", str(tmp_path / "out"), "--command", COMMAND]) == 2
    assert "holds no model.safetensors" in capsys.readouterr().err


def test_the_shipped_demo_model_is_small_documented_and_exported_by_these_libraries():
    assert (DEMO_MODEL / "model.safetensors").stat().st_size <= 15e6
    card = (DEMO_MODEL / "README.md").read_text(encoding="utf-8")
    assert "python -m scripts.finetune_shared_data" in card and "before → after" in card
    assert OnnxExport.open(DEMO_MODEL / "onnx").info["versions"] == library_versions(), (
        "the demo model's ONNX towers were exported by other library versions: the app would export them again at "
        "its first start; run `python -m scripts.ship_demo_model --onnx-only`"
    )
