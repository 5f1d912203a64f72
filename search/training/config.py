"""Every setting of a fine-tuning run, checked once, and the fingerprint of those that decide its result."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from search.catalog.schema import LABEL_COLUMNS, NAME_COLUMN
from search.errors import TrainingError
from search.evaluate.protocols import protocol_names

# The text fields a product is paired with its photo by, and how much each one's loss counts. As in Marqo's
# multi-field GCL training, each field is its own InfoNCE term: the name teaches the long tail of words, the
# label fields teach the words shoppers filter and search by ("Tshirts", "Navy Blue").
NAME_FIELD = "name"
LABELS_FIELD = "labels"
FIELD_CHOICES = (NAME_FIELD, LABELS_FIELD, *LABEL_COLUMNS)
DEFAULT_FIELDS = "name:1,labels:1,articleType:0.5,baseColour:0.5,subCategory:0.25"
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DEFAULT_EVAL_PROTOCOL = "text,label,image,composed"


@dataclass(frozen=True)
class TextField:
    """One text field paired with the product photo, and the weight of its loss term."""

    name: str
    weight: float

    @property
    def column(self) -> str:
        """The catalog column it reads (`labels` is composed from several, see `data.field_text`)."""
        return NAME_COLUMN if self.name == NAME_FIELD else self.name


def parse_fields(spec: str) -> tuple[TextField, ...]:
    """`name:1,labels:1,articleType:0.5` → text fields; a field without a weight counts 1."""
    fields: list[TextField] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, weight_text = part.partition(":")
        name = name.strip()
        if name not in FIELD_CHOICES:
            raise TrainingError(f"Unknown text field '{name}' in --fields; choose from {', '.join(FIELD_CHOICES)}.")
        try:
            weight = float(weight_text) if weight_text.strip() else 1.0
        except ValueError:
            raise TrainingError(f"The weight of field '{name}' must be a number, got '{weight_text}'.") from None
        if not (math.isfinite(weight) and weight > 0):
            raise TrainingError(f"The weight of field '{name}' must be a finite number above 0, got {weight_text}.")
        if any(existing.name == name for existing in fields):
            raise TrainingError(f"Text field '{name}' is given twice in --fields.")
        fields.append(TextField(name, weight))
    if not fields:
        raise TrainingError(f"--fields names no field; for example --fields {DEFAULT_FIELDS}")
    return tuple(fields)


@dataclass
class FinetuneConfig:
    """A fine-tuning run; `finetune.py` has an option of the same name (dashes for underscores) for each."""

    dataset: str
    model: str
    out: Path
    split: str = "train"
    dataset_revision: str | None = None
    limit: int | None = None
    model_revision: str | None = None
    fields: tuple[TextField, ...] = field(default_factory=lambda: parse_fields(DEFAULT_FIELDS))
    epochs: int = 3
    batch_size: int = 64
    accumulation: int = 1
    lr: float = 1e-5
    weight_decay: float = 0.1
    warmup: float = 0.05
    max_grad_norm: float = 1.0
    flip: bool = True
    seed: int = 0
    heldout_share: float = 0.1
    device: str | None = None
    precision: str = "auto"
    num_workers: int = 2
    save_every: int = 100
    eval_protocol: str = DEFAULT_EVAL_PROTOCOL
    eval_queries: int = 1000
    skip_eval: bool = False
    push_to: str | None = None
    private: bool = False

    def __post_init__(self) -> None:
        self.out = Path(self.out).expanduser()
        checks = [
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}."),
            (
                self.batch_size >= 2,
                f"--batch-size must be at least 2 (a contrastive batch needs negatives), got {self.batch_size}.",
            ),
            (self.accumulation >= 1, f"--accumulation must be at least 1, got {self.accumulation}."),
            (math.isfinite(self.lr) and self.lr > 0, f"--lr must be a finite number above 0, got {self.lr}."),
            (
                math.isfinite(self.weight_decay) and self.weight_decay >= 0,
                f"--weight-decay must be a finite number, 0 or more; got {self.weight_decay}.",
            ),
            (0 <= self.warmup < 1, f"--warmup is a share of the steps, from 0 to below 1; got {self.warmup}."),
            (
                math.isfinite(self.max_grad_norm) and self.max_grad_norm > 0,
                f"--max-grad-norm must be a finite number above 0, got {self.max_grad_norm}.",
            ),
            (0 < self.heldout_share < 1, f"--heldout-share must be between 0 and 1, got {self.heldout_share}."),
            (self.limit is None or self.limit >= 2, f"--limit must be at least 2, got {self.limit}."),
            (self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}."),
            (self.num_workers >= 0, f"--num-workers must be 0 or more, got {self.num_workers}."),
            (self.save_every >= 1, f"--save-every must be at least 1, got {self.save_every}."),
            (self.eval_queries >= 1, f"--eval-queries must be at least 1, got {self.eval_queries}."),
        ]
        for ok, message in checks:
            if not ok:
                raise TrainingError(message)
        try:
            protocol_names(self.eval_protocol)
        except ValueError as error:
            raise TrainingError(f"--eval-protocol: {error}") from None
        if Path(self.model).expanduser().resolve() == self.out.resolve():
            raise TrainingError("--out must differ from --model: the fine-tuned model must not overwrite its base.")

    @property
    def work_dir(self) -> Path:
        """Checkpoints, the held-out catalog and the evaluation bundles; never uploaded."""
        return self.out / "training"

    def result_settings(self) -> dict[str, object]:
        """The settings the trained weights depend on (not where they go, how fast, or how they are judged)."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "dataset_revision": self.dataset_revision,
            "limit": self.limit,
            "model": self.model,
            "model_revision": self.model_revision,
            "fields": {f.name: f.weight for f in self.fields},
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "accumulation": self.accumulation,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "warmup": self.warmup,
            "max_grad_norm": self.max_grad_norm,
            "flip": self.flip,
            "seed": self.seed,
            "heldout_share": self.heldout_share,
            "precision": self.precision,
        }

    def fingerprint(self) -> str:
        """Identifies a run: a checkpoint resumes only a run with the same fingerprint."""
        text = json.dumps(self.result_settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
