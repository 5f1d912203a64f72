"""The whole fine-tuning job as `finetune.py` runs it: load the catalog, hold products out, evaluate the base
model on them, train, save the model folder, evaluate it, write the card and the summary, push if asked.

Every stage leaves its result in the output folder, so rerunning an interrupted command continues where it
stopped (training from its checkpoint, evaluations from their reports) and reaches the same result.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import datasets
import numpy as np
import torch
from transformers import PreTrainedModel

from search.bundle import code_version
from search.catalog.schema import CatalogSource, load_catalog
from search.encoding.encoder import Encoder, default_device
from search.errors import TrainingError
from search.training.card import model_card
from search.training.checkpoint import CheckpointStore, TrainingState
from search.training.config import FinetuneConfig
from search.training.data import Split, split_rows
from search.training.heldout import EvalSettings, compare, evaluate_model, rows_digest, write_heldout_catalog
from search.training.loop import Trainer, resolve_precision
from search.training.publish import push_model

logger = logging.getLogger(__name__)

SUMMARY_FILE = "finetune.json"
CARD_FILE = "README.md"


@dataclass
class FinetuneReport:
    """Where the model is, what the run did (the summary also written to finetune.json) and where it went."""

    out: Path
    summary: dict[str, Any]
    pushed_to: str | None = None


def check_out_folder(config: FinetuneConfig) -> None:
    """Only a new or empty folder, or one of an earlier run, may receive the model: nothing else is overwritten."""
    out = config.out
    if out.exists() and not out.is_dir():
        raise TrainingError(f"--out {out} is a file; give a folder for the fine-tuned model.")
    if out.is_dir() and any(out.iterdir()) and not config.work_dir.is_dir():
        raise TrainingError(
            f"--out {out} already holds files that finetune.py did not write (no {config.work_dir.name}/ inside); "
            "choose a new or empty folder so nothing there is overwritten."
        )


def train_model(
    config: FinetuneConfig, table: datasets.Dataset, source: CatalogSource, split: Split, store: CheckpointStore
) -> TrainingState:
    """Train (or resume) and save the model folder; a run that already finished is not trained again."""
    finished = store.finished()
    if finished is not None:
        if not (config.out / "config.json").exists():
            raise TrainingError(
                f"Training of this run finished but its model is missing from {config.out}; delete "
                f"{config.work_dir} to train again."
            )
        logger.info("Training already finished (%d steps); using the model in %s", finished.step, config.out)
        return finished
    encoder = Encoder.load(config.model, config.model_revision, config.device, "float32", runtime="torch")
    state = Trainer(config, encoder, table, split.train, store, source.root).train()
    cast(PreTrainedModel, encoder.model).save_pretrained(config.out)  # what AutoModel loaded
    encoder.processor.save_pretrained(config.out)
    store.finish(state)
    return state


def training_summary(state: TrainingState) -> dict[str, Any]:
    per_epoch = max(1, state.total_steps // max(1, state.epoch))
    return {
        "steps": state.step,
        "epochs": state.epoch,
        "seconds": state.seconds,
        "first_epoch_loss": float(np.mean(state.losses[:per_epoch])),
        "last_epoch_loss": float(np.mean(state.losses[-per_epoch:])),
        "losses": state.losses,
        **state.info,
    }


def machine() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} ({platform.machine()}, {os.cpu_count()} CPUs)"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} threads"


def run_finetune(config: FinetuneConfig) -> FinetuneReport:
    """Run every stage not already done; returns the summary (also in finetune.json and the model card)."""
    check_out_folder(config)
    resolve_precision(config.precision, config.device or default_device())  # refuse fp16 on CPU before any work
    table, source = load_catalog(config.dataset, config.split, config.dataset_revision, config.limit)
    split = split_rows(table, config.heldout_share, config.seed)
    logger.info("%d products: %d for training, %d held out", len(table), len(split.train), len(split.heldout))
    store = CheckpointStore(config.work_dir, config.fingerprint(), config.result_settings())
    store.claim()
    settings = EvalSettings(
        config.eval_protocol, config.eval_queries, config.seed, config.batch_size, config.device, config.num_workers
    )
    catalog = write_heldout_catalog(table, split.heldout, source.root, config.work_dir / "heldout-catalog")
    key = {"heldout": rows_digest(split.heldout)}
    evaluations: dict[str, Any] = {}
    if not config.skip_eval:
        evaluations["before"] = evaluate_model(
            config.model, config.model_revision, catalog, config.work_dir / "eval-before", settings, key
        )
    state = train_model(config, table, source, split, store)
    if not config.skip_eval:
        evaluations["after"] = evaluate_model(
            str(config.out), None, catalog, config.work_dir / "eval-after", settings, {**key, "run": store.fingerprint}
        )
    summary = run_summary(config, source, split, state, evaluations)
    (config.out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (config.out / CARD_FILE).write_text(model_card(summary, config.push_to), encoding="utf-8")
    report = FinetuneReport(config.out, summary)
    if config.push_to:
        report.pushed_to = push_model(config.out, config.push_to, config.work_dir.name, config.private)
    return report


def run_summary(
    config: FinetuneConfig, source: CatalogSource, split: Split, state: TrainingState, evaluations: dict[str, Any]
) -> dict[str, Any]:
    """Everything the card states, as JSON: data, settings, training and the before/after rows."""
    evaluation = None
    if evaluations:
        evaluation = {
            "protocol": config.eval_protocol,
            "queries": config.eval_queries,
            "seed": config.seed,
            "rows": compare(evaluations["before"], evaluations["after"]),
        }
    return {
        "base_model": {"id": config.model, "revision": state.info.get("base_revision")},
        "dataset": {
            "id": source.dataset,
            "split": source.split,
            "revision": source.revision,
            "rows": source.num_rows,
            "train": len(split.train),
            "heldout": len(split.heldout),
        },
        "settings": config.result_settings(),
        "training": training_summary(state),
        "evaluation": evaluation,
        "machine": machine(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "code_version": code_version(),
    }
