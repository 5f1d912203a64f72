"""The optimisation: AdamW with warm-up and cosine decay, gradient accumulation, mixed precision on CUDA,
checkpoints every few steps and on Ctrl-C (the first one stops after the current step, a second at once)."""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import datasets
import numpy as np
import torch
from torch.nn.functional import normalize
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from search.encoding.encoder import Encoder
from search.encoding.towers import image_features, text_features
from search.errors import TrainingError
from search.training.checkpoint import CheckpointStore, TrainingState, rng_state, set_rng_state
from search.training.config import FinetuneConfig, TextField
from search.training.data import PairBatch, PairSource, batch_stream, epoch_batches, unique_texts
from search.training.loss import MAX_LOGIT_SCALE, FieldTerm, multi_field_loss

logger = logging.getLogger(__name__)

AMP_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
# CLIP's initial temperature; used for models without a learnt one.
DEFAULT_LOGIT_SCALE = 1 / 0.07


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after a checkpoint was written; rerunning the same command resumes."""


def resolve_precision(precision: str, device: str) -> str:
    """`auto`: bf16 on CUDA GPUs that have it, else fp16 there; fp32 elsewhere. fp16 needs CUDA."""
    cuda = torch.device(device).type == "cuda"
    if precision == "auto":
        return ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if precision == "fp16" and not cuda:
        raise TrainingError(f"--precision fp16 needs a CUDA device (got {device}); use fp32 or bf16.")
    return precision


class StopRequest:
    """SIGINT handler for the training loop: the first Ctrl-C asks it to stop cleanly, a second one stops now."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("Stopping after a checkpoint of the last finished step; press Ctrl-C again to stop at once.")


def logit_scale(model: torch.nn.Module) -> torch.Tensor:
    """The model's learnt logit scale (CLIP, SigLIP: exp of a parameter; ALIGN: 1 / temperature)."""
    scale, temperature = getattr(model, "logit_scale", None), getattr(model, "temperature", None)
    if isinstance(scale, torch.nn.Parameter):
        return scale.exp().clamp(max=MAX_LOGIT_SCALE)
    if isinstance(temperature, torch.nn.Parameter):
        return 1.0 / temperature
    return torch.tensor(DEFAULT_LOGIT_SCALE)


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices only; biases, norms and the logit scale (1-d or scalar) are left alone."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def batch_loss(
    encoder: Encoder, batch: PairBatch, fields: Sequence[TextField], autocast: contextlib.AbstractContextManager
) -> torch.Tensor:
    """The batch's multi-field loss; every field's distinct texts go through the text tower in one call."""
    model, device = encoder.model, encoder.device
    valid = batch.valid.tolist()
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    indices: list[torch.Tensor] = []
    for text_field in fields:
        unique, index = unique_texts(batch.texts[text_field.name], valid)
        spans.append((len(texts), len(texts) + len(unique)))
        texts.extend(unique)
        indices.append(index.to(device))
    with autocast:
        image = image_features(model, batch.pixel_values.to(device, non_blocking=True))
        text = image[:0]  # a batch whose products lack every field has no text to encode
        if texts:
            tokens = {name: tensor.to(device) for name, tensor in encoder.tokenize(texts).items()}
            text = text_features(model, **tokens)
    image, text = normalize(image.float(), dim=-1), normalize(text.float(), dim=-1)
    terms = [
        FieldTerm(text[start:end], index, f.weight)
        for f, (start, end), index in zip(fields, spans, indices, strict=True)
    ]
    return multi_field_loss(image, terms, logit_scale(model).float())


class Trainer:
    """Trains `encoder.model` on the catalog rows `rows` (photos by relative path read from `root`); resumes from
    the store's checkpoint when there is one."""

    def __init__(
        self,
        config: FinetuneConfig,
        encoder: Encoder,
        table: datasets.Dataset,
        rows: Sequence[int] | np.ndarray,
        store: CheckpointStore,
        root: Path | None = None,
    ) -> None:
        self.config = config
        self.root = root
        self.encoder = encoder
        self.model = encoder.model
        self.table = table
        self.rows = list(rows)
        self.store = store
        self.precision = resolve_precision(config.precision, encoder.device)
        self.device_type = torch.device(encoder.device).type
        batches = len(epoch_batches(self.rows, config.batch_size, config.seed, 0))
        self.steps_per_epoch = math.ceil(batches / config.accumulation)
        total = self.steps_per_epoch * config.epochs
        torch.manual_seed(config.seed)
        self.optimizer = torch.optim.AdamW(parameter_groups(self.model, config.weight_decay), lr=config.lr)
        self.scheduler = get_cosine_schedule_with_warmup(self.optimizer, round(config.warmup * total), total)
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=self.precision == "fp16")
        self.state = TrainingState(config.fingerprint(), config.result_settings(), total)
        self.rng = rng_state()

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=AMP_DTYPES[self.precision])

    def restore(self) -> None:
        """Continue from the checkpoint if there is one."""
        payload = self.store.load()
        if payload is None:
            return
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        self.scaler.load_state_dict(payload["scaler"])
        set_rng_state(payload["rng"])
        self.state, self.rng = payload["state"], payload["rng"]

    def save(self) -> None:
        """Checkpoint the state after the last finished step (forward/backward passes change no weights)."""
        self.store.save(
            self.state,
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(),
                "rng": self.rng,
            },
        )

    def train(self) -> TrainingState:
        """Train to the last epoch (from the checkpoint, if any); returns the final state."""
        self.restore()
        self.state.info |= {
            "device": self.encoder.device,
            "precision": self.precision,
            "base_revision": self.encoder.ref.revision,
        }
        self.model.train()
        config = self.config
        progress = tqdm(total=self.state.total_steps, initial=self.state.step, desc="Fine-tuning", unit="step")
        with StopRequest() as stop, progress:
            while self.state.epoch < config.epochs:
                self.run_epoch(stop, progress)
                self.state.epoch += 1
                self.state.epoch_step = 0
                self.save()
        self.model.eval()
        return self.state

    def run_epoch(self, stop: StopRequest, progress: tqdm) -> None:
        config, state = self.config, self.state
        batches = epoch_batches(self.rows, config.batch_size, config.seed, state.epoch)
        groups = [batches[start : start + config.accumulation] for start in range(0, len(batches), config.accumulation)]
        todo = groups[state.epoch_step :]
        processor = self.encoder.image_processor
        source = PairSource(self.table, config.fields, processor, config.flip, config.seed, state.epoch, self.root)
        stream = batch_stream(
            source, [batch for group in todo for batch in group], config.num_workers, self.device_type == "cuda"
        )
        for group in todo:
            started = time.perf_counter()
            loss = self.accumulate(stream, len(group), stop)
            self.update()
            state.step += 1
            state.epoch_step += 1
            state.losses.append(loss)
            state.seconds += time.perf_counter() - started
            self.rng = rng_state()
            progress.update(1)
            progress.set_postfix(epoch=state.epoch + 1, loss=f"{loss:.4f}")
            if stop.requested:
                self.interrupt()
            if state.step % config.save_every == 0:
                self.save()

    def accumulate(self, stream: Iterator[PairBatch], count: int, stop: StopRequest) -> float:
        """Forward and backward `count` micro-batches into the gradients; returns their mean loss."""
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(count):
            loss = batch_loss(self.encoder, next(stream), self.config.fields, self.autocast()) / count
            self.scaler.scale(loss).backward()
            total += float(loss.detach())
            if stop.requested:
                self.interrupt()
        if not math.isfinite(total) and self.precision != "fp16":
            raise TrainingError(
                f"The loss became {total} at step {self.state.step + 1}; lower --lr or use --precision fp32."
            )
        return total

    def update(self) -> None:
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        scale = getattr(self.model, "logit_scale", None)
        if isinstance(scale, torch.nn.Parameter):
            with torch.no_grad():
                scale.clamp_(max=math.log(MAX_LOGIT_SCALE))

    def interrupt(self) -> None:
        self.save()
        raise TrainingInterrupted(
            f"Training stopped at step {self.state.step} of {self.state.total_steps}; the checkpoint is in "
            f"{self.store.folder}. Rerun the same command to resume."
        )
