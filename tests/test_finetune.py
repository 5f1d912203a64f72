"""finetune.py end to end on the tiny model and a generated catalog: it learns, resumes to the same model, its
folder builds an index as is, and it pushes a model repo with its card (only the Hub's network calls faked)."""

import json
import logging
import os
import signal
from pathlib import Path

import pytest
from safetensors.torch import load_file

import finetune
import index_build
import search.training.heldout as heldout
import search.training.loop as loop
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.fixtures.synthetic import generate_rows
from tests.helpers import FakeHub, build_args, rows_with_image_paths, write_catalog

HUB_ID = "tester/tuned-clip"


def finetune_args(catalog: Path, model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--dataset", str(catalog), "--model", str(model), "--out", str(out),
        "--epochs", "6", "--batch-size", "32", "--lr", "2e-3", "--warmup", "0", "--heldout-share", "0.25",
        "--num-workers", "0", "--eval-protocol", "text,articleType", "--eval-queries", "100", *extra,
    ]  # fmt: skip


def resume_args(catalog: Path, model: Path, out: Path) -> list[str]:
    """9 optimiser steps of 2 accumulated batches over 3 epochs; checkpoints at epoch ends and every 5 steps."""
    return finetune_args(catalog, model, out, "--limit", "120", "--epochs", "3", "--batch-size", "16",
                         "--accumulation", "2", "--save-every", "5", "--skip-eval")  # fmt: skip


def summary(out: Path) -> dict:
    return json.loads((out / "finetune.json").read_text())


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory, catalog_dir, tiny_model) -> Path:
    out = tmp_path_factory.mktemp("finetune") / "tuned"
    assert finetune.main(finetune_args(catalog_dir, tiny_model, out)) == 0
    return out


def test_training_lowers_the_loss_and_raises_heldout_recall(finetuned):
    training, evaluation = summary(finetuned)["training"], summary(finetuned)["evaluation"]
    assert training["steps"] == 36 and training["last_epoch_loss"] < training["first_epoch_loss"]
    rows = {(row["protocol"], row["method"]): row for row in evaluation["rows"]}
    for protocol in ("text", "articleType"):
        dense = rows[(protocol, "dense")]
        assert dense["after"]["R@10"] > dense["before"]["R@10"]
        assert rows[(protocol, "keyword")]["after"] == rows[(protocol, "keyword")]["before"]
    assert rows[("text", "dense")]["queries"] > 50


def test_the_model_folder_builds_an_index_as_is(finetuned, catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "index"
    assert index_build.main(build_args(catalog_dir, finetuned, out)) == 0
    engine = SearchEngine.load(out)
    assert engine.manifest.model.id == str(finetuned)
    assert len(engine.search_text("red shirt", k=5)) == 5
    base = Encoder.load(str(tiny_model)).encode_text(["red shirt"])
    assert abs(float(base[0] @ engine.encoder.encode_text(["red shirt"])[0])) < 0.99  # tuned weights, not the base


def test_card_and_summary_describe_the_run(finetuned, catalog_dir):
    card = (finetuned / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers")
    assert "| Products | 240 (180 trained on, 60 held out) |" in card
    assert "| text | text | dense |" in card and "| articleType | text | keyword |" in card
    assert summary(finetuned)["dataset"]["id"] == str(catalog_dir)
    held_out = SearchEngine.load(finetuned / "training" / "eval-after" / "bundle")
    assert len(held_out.products) == 60


def test_a_finished_run_is_not_trained_or_evaluated_again(finetuned, catalog_dir, tiny_model, monkeypatch, caplog):
    before = summary(finetuned)

    def fail(*args, **kwargs):
        raise AssertionError("repeated work")

    monkeypatch.setattr(loop.Trainer, "train", fail)
    monkeypatch.setattr(heldout, "run_build", fail)
    with caplog.at_level(logging.INFO):
        assert finetune.main(finetune_args(catalog_dir, tiny_model, finetuned)) == 0
    assert "Training already finished (36 steps)" in caplog.text
    assert summary(finetuned)["evaluation"] == before["evaluation"]


def test_rerun_with_other_settings_is_refused(finetuned, catalog_dir, tiny_model, caplog):
    args = finetune_args(catalog_dir, tiny_model, finetuned)
    args[args.index("--lr") + 1] = "1e-4"
    assert finetune.main(args) == 1
    assert "holds a run with other settings (lr 0.002 then, 0.0001 now)" in caplog.text


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, catalog_dir, tiny_model) -> Path:
    out = tmp_path_factory.mktemp("resume") / "uninterrupted"
    assert finetune.main(resume_args(catalog_dir, tiny_model, out)) == 0
    return out


@pytest.mark.parametrize(("stop", "resumed_step"), [("ctrl-c", 4), ("crash", 3)])
def test_interrupted_training_resumes_to_the_same_model(
    uninterrupted, catalog_dir, tiny_model, tmp_path, monkeypatch, caplog, stop, resumed_step
):
    """Ctrl-C in the 10th batch (step 5) checkpoints step 4; a hard stop there resumes from the epoch-end
    checkpoint of step 3. Either way the rerun ends with the uninterrupted run's weights and losses."""
    out = tmp_path / "interrupted"
    real = loop.batch_loss
    calls = {"n": 0}

    def interrupting(*args):
        calls["n"] += 1
        if calls["n"] == 10:
            if stop == "ctrl-c":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(loop, "batch_loss", interrupting)
    assert finetune.main(resume_args(catalog_dir, tiny_model, out)) == 130
    assert (out / "training" / "checkpoint.pt").exists() and not (out / "config.json").exists()
    monkeypatch.setattr(loop, "batch_loss", real)
    with caplog.at_level(logging.INFO):
        assert finetune.main(resume_args(catalog_dir, tiny_model, out)) == 0
    assert f"step {resumed_step} of 9" in caplog.text
    resumed, expected = load_file(out / "model.safetensors"), load_file(uninterrupted / "model.safetensors")
    assert resumed.keys() == expected.keys()
    assert all(resumed[name].equal(expected[name]) for name in expected)
    assert summary(out)["training"]["losses"] == summary(uninterrupted)["training"]["losses"]


def test_photos_given_by_path_train_the_same_model(tiny_model, tmp_path):
    embedded = write_catalog(generate_rows(48), tmp_path / "embedded")
    by_path = write_catalog(rows_with_image_paths(generate_rows(48), tmp_path / "by-path"), tmp_path / "by-path")
    short = ("--epochs", "1", "--batch-size", "16", "--skip-eval")
    assert finetune.main(finetune_args(embedded, tiny_model, tmp_path / "a", *short)) == 0
    assert finetune.main(finetune_args(by_path, tiny_model, tmp_path / "b", *short)) == 0
    first, second = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert all(first[name].equal(second[name]) for name in first)


@pytest.fixture
def fake_hub(monkeypatch) -> FakeHub:
    return FakeHub().install(monkeypatch, "search.hub_upload")


def test_push_creates_a_model_repo_with_the_card(finetuned, catalog_dir, tiny_model, fake_hub):
    assert finetune.main(finetune_args(catalog_dir, tiny_model, finetuned, "--push-to", HUB_ID, "--private")) == 0
    (create, create_args), (upload, upload_args) = fake_hub.calls
    assert create == "create_repo" and create_args == {
        "repo_id": HUB_ID,
        "repo_type": "model",
        "private": True,
        "exist_ok": True,
    }
    assert upload == "upload_folder" and upload_args["repo_type"] == "model" and upload_args["repo_id"] == HUB_ID
    files = upload_args["files"]
    assert {"README.md", "config.json", "model.safetensors", "finetune.json", "processor_config.json"} <= set(files)
    assert not [name for name in files if name.startswith("training")]
    card = (finetuned / "README.md").read_text()
    assert f"# {HUB_ID}" in card and f"python index_build.py --model {HUB_ID}" in card
    assert "token" not in upload_args and "token" not in create_args


def test_failed_push_keeps_the_model_and_says_how_to_retry(finetuned, catalog_dir, tiny_model, fake_hub, caplog):
    fake_hub.fail = True
    assert finetune.main(finetune_args(catalog_dir, tiny_model, finetuned, "--push-to", HUB_ID)) == 1
    assert f"The model at {finetuned} is intact" in caplog.text and "rerun the same command" in caplog.text
    assert Encoder.load(str(finetuned)).dim == 32


def test_token_is_never_logged_or_written(finetuned, catalog_dir, tiny_model, fake_hub, monkeypatch, caplog, capsys):
    secret = "hf_SENTINELtokenVALUE123"
    monkeypatch.setenv("HF_TOKEN", secret)
    with caplog.at_level(logging.DEBUG):
        assert finetune.main(finetune_args(catalog_dir, tiny_model, finetuned, "--push-to", HUB_ID)) == 0
        fake_hub.fail = True
        assert finetune.main(finetune_args(catalog_dir, tiny_model, finetuned, "--push-to", HUB_ID)) == 1
    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err
    assert all(secret.encode() not in path.read_bytes() for path in finetuned.rglob("*") if path.is_file())


def test_a_folder_of_other_files_is_not_overwritten(catalog_dir, tiny_model, tmp_path, caplog):
    (tmp_path / "notes.txt").write_text("keep me")
    assert finetune.main(finetune_args(catalog_dir, tiny_model, tmp_path)) == 1
    assert "already holds files that finetune.py did not write" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--precision", "fp16", "--device", "cpu"], "--precision fp16 needs a CUDA device"),
        (["--heldout-share", "0"], "--heldout-share must be between 0 and 1"),
        (["--limit", "2"], "cannot be split into at least 2 training products"),
    ],
)
def test_bad_settings_stop_before_any_work(catalog_dir, tiny_model, tmp_path, caplog, extra, message):
    out = tmp_path / "out"
    assert finetune.main(finetune_args(catalog_dir, tiny_model, out, *extra)) == 1
    assert message in caplog.text
    assert not (out / "training" / "eval-before").exists()


def test_missing_dataset_is_explained(tiny_model, tmp_path, caplog):
    assert finetune.main(finetune_args(tmp_path / "nowhere", tiny_model, tmp_path / "out")) == 1
    assert "Could not load dataset" in caplog.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [("name,title", "Unknown text field 'title'"), ("name:inf", "must be a finite number above 0, got inf")],
)
def test_bad_fields_are_refused_by_the_parser(catalog_dir, tiny_model, tmp_path, capsys, fields, message):
    with pytest.raises(SystemExit):
        finetune.main(finetune_args(catalog_dir, tiny_model, tmp_path / "out", "--fields", fields))
    assert message in capsys.readouterr().err
