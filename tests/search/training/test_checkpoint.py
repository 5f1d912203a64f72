"""Checkpoints: a round trip restores every tensor, a run with other settings is refused by name, a damaged
file is explained, and a finished run keeps only its record."""

import pytest
import torch

from search.errors import TrainingError
from search.training.checkpoint import CHECKPOINT_FILE, CheckpointStore, TrainingState, rng_state, set_rng_state

SETTINGS = {"lr": 1e-5, "epochs": 3}


def store(folder, settings=SETTINGS, fingerprint="abc") -> CheckpointStore:
    return CheckpointStore(folder, fingerprint, settings)


def test_round_trip(tmp_path):
    weights = {"w": torch.randn(3, 3)}
    state = TrainingState("abc", SETTINGS, total_steps=10, step=4, epoch=1, epoch_step=2, losses=[3.0, 2.5])
    store(tmp_path).save(state, {"model": weights, "rng": rng_state()})
    payload = store(tmp_path).load()
    assert payload["state"] == state
    torch.testing.assert_close(payload["model"]["w"], weights["w"], rtol=0, atol=0)
    assert not list(tmp_path.glob("*.partial"))


def test_rng_state_replays_random_numbers():
    saved = rng_state()
    first = torch.rand(4)
    set_rng_state(saved)
    torch.testing.assert_close(torch.rand(4), first, rtol=0, atol=0)


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    assert store(tmp_path).load() is None
    assert store(tmp_path).finished() is None


def test_other_settings_are_refused_naming_what_changed(tmp_path):
    store(tmp_path).claim()
    store(tmp_path).claim()  # the same run again is fine
    with pytest.raises(TrainingError, match=r"lr 1e-05 then, 0.001 now") as error:
        store(tmp_path, {"lr": 1e-3, "epochs": 3}, fingerprint="def").claim()
    assert "epochs" not in str(error.value)
    assert f"delete {tmp_path}" in str(error.value)


def test_damaged_checkpoint_is_explained(tmp_path):
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match="cannot be read.*Delete it to train this run from the start"):
        store(tmp_path).load()


def test_finish_keeps_the_record_and_drops_the_tensors(tmp_path):
    state = TrainingState("abc", SETTINGS, total_steps=2, step=2, epoch=1, losses=[1.0, 0.5], info={"device": "cpu"})
    store(tmp_path).save(state, {"model": {"w": torch.zeros(2)}})
    store(tmp_path).finish(state)
    assert not (tmp_path / CHECKPOINT_FILE).exists()
    assert store(tmp_path).finished() == state
