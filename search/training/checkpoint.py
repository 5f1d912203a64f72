"""Resumable training state: one checkpoint file (weights, optimiser, schedule, scaler, RNG and progress) written
atomically, so an interrupted run continues from its last checkpoint to the result an uninterrupted run gives."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from search.errors import TrainingError

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
CHECKPOINT_FILE = "checkpoint.pt"
# Written when training has finished and the model is saved; the checkpoint's tensors are then deleted.
DONE_FILE = "trained.json"


@dataclass
class TrainingState:
    """Where a run stands: optimiser steps done, the epoch in progress and the steps done within it."""

    fingerprint: str
    settings: dict[str, Any]
    total_steps: int
    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def rng_state() -> dict[str, Any]:
    """PyTorch's random generators (dropout, random init), saved with each step so a resume replays them."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {"torch": torch.get_rng_state(), "cuda": cuda}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class CheckpointStore:
    """The checkpoint of one run in `folder`; refuses a checkpoint written with other settings."""

    def __init__(self, folder: Path, fingerprint: str, settings: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.settings = settings

    @property
    def path(self) -> Path:
        return self.folder / CHECKPOINT_FILE

    def claim(self) -> None:
        """Tie the folder to these settings on first use; refuse it later to a run with other settings."""
        run = self.folder / RUN_FILE
        if run.exists():
            recorded = json.loads(run.read_text(encoding="utf-8"))
            self._check(TrainingState(recorded["fingerprint"], recorded["settings"], 0))
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        run.write_text(json.dumps({"fingerprint": self.fingerprint, "settings": self.settings}, indent=2))

    def finished(self) -> TrainingState | None:
        """The final state of a run of these settings that finished training, else None."""
        done = self.folder / DONE_FILE
        if not done.exists():
            return None
        state = TrainingState(**json.loads(done.read_text(encoding="utf-8")))
        self._check(state)
        return state

    def load(self) -> dict[str, Any] | None:
        """The saved payload (`state` plus the tensors' state dicts), or None when there is no checkpoint."""
        if not self.path.exists():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=True)
            payload["state"] = TrainingState(**payload["state"])
        except Exception as error:  # a truncated or foreign file: torch and pickle raise many types
            raise TrainingError(
                f"The checkpoint {self.path} cannot be read ({type(error).__name__}): it is damaged or was not "
                "written by finetune.py. Delete it to train this run from the start."
            ) from error
        self._check(payload["state"])
        logger.info("Resuming from %s: step %d of %d", self.path, payload["state"].step, payload["state"].total_steps)
        return payload

    def save(self, state: TrainingState, tensors: dict[str, Any]) -> None:
        """Write the checkpoint atomically: a crash while saving leaves the previous one intact."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".pt.partial")
        torch.save({"state": asdict(state), **tensors}, partial)
        os.replace(partial, self.path)
        logger.debug("Checkpoint at step %d written to %s", state.step, self.path)

    def finish(self, state: TrainingState) -> None:
        """Record that training finished (the model is saved by then) and drop the checkpoint's tensors."""
        partial = self.folder / f"{DONE_FILE}.partial"
        partial.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
        os.replace(partial, self.folder / DONE_FILE)
        self.path.unlink(missing_ok=True)

    def _check(self, state: TrainingState) -> None:
        if state.fingerprint == self.fingerprint:
            return
        then, now = state.settings, self.settings
        changed = sorted(key for key in {*then, *now} if then.get(key) != now.get(key))
        details = "; ".join(f"{key} {then.get(key)!r} then, {now.get(key)!r} now" for key in changed)
        raise TrainingError(
            f"{self.folder} holds a run with other settings ({details}). Rerun with the same settings to resume "
            f"it, choose another --out, or delete {self.folder} to start over."
        )
