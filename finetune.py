"""Fine-tune a CLIP-family model on a product catalog (contrastive, multi-field), judge it on held-out products
before and after, and write a model folder that `index_build.py --model DIR` uses as is.

    python finetune.py --dataset ashraq/fashion-product-images-small --model patrickjohncyh/fashion-clip \
        --out build/fashion-clip-tuned --epochs 3 --push-to <user>/fashion-clip-tuned

Interrupted (Ctrl-C, a crash)? Rerun the same command: it resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

from search.errors import SearchError, TrainingError
from search.logs import configure_logging
from search.offline import offline_unless_hub_resolves
from search.training.config import (
    DEFAULT_EVAL_PROTOCOL,
    DEFAULT_FIELDS,
    PRECISIONS,
    FinetuneConfig,
    TextField,
    parse_fields,
)
from search.training.heldout import comparison_table
from search.training.runner import run_finetune

logger = logging.getLogger("finetune")


def _fields(text: str) -> tuple[TextField, ...]:
    try:
        return parse_fields(text)
    except TrainingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("catalog")
    data.add_argument("--dataset", required=True, help="Hub dataset id or local folder in the catalog schema")
    data.add_argument("--split", default="train")
    data.add_argument("--dataset-revision", default=None, help="Hub branch, tag or commit of the dataset")
    data.add_argument("--limit", type=int, default=None, help="use the first N products only")
    data.add_argument(
        "--fields",
        type=_fields,
        default=parse_fields(DEFAULT_FIELDS),
        metavar="FIELD:WEIGHT,...",
        help=f"text fields paired with the photo and their loss weights (default {DEFAULT_FIELDS}); fields: name, "
        "labels (gender colour articleType) or a label column",
    )
    data.add_argument("--heldout-share", type=float, default=0.1, help="share of products held out (default 0.1)")
    model = parser.add_argument_group("model")
    model.add_argument("--model", required=True, help="Hub id or local folder of a CLIP-family model to start from")
    model.add_argument("--model-revision", default=None)
    model.add_argument("--out", type=Path, required=True, help="folder for the fine-tuned model (new, or a run's)")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--batch-size", type=int, default=64, help="products per forward pass (contrastive batch)")
    train.add_argument("--accumulation", type=int, default=1, help="forward passes per optimiser step")
    train.add_argument("--lr", type=float, default=1e-5, help="peak learning rate (default suits a pretrained model)")
    train.add_argument("--weight-decay", type=float, default=0.1)
    train.add_argument("--warmup", type=float, default=0.05, help="share of the steps spent warming up")
    train.add_argument("--max-grad-norm", type=float, default=1.0)
    train.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    train.add_argument("--precision", choices=PRECISIONS, default="auto", help="auto: bf16/fp16 on CUDA, fp32 on CPU")
    train.add_argument("--num-workers", type=int, default=2, help="image decoding worker processes")
    train.add_argument("--save-every", type=int, default=100, help="optimiser steps between checkpoints")
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-protocol", default=DEFAULT_EVAL_PROTOCOL, help="search.evaluate protocols")
    evaluation.add_argument("--eval-queries", type=int, default=1000, help="queries per protocol")
    evaluation.add_argument("--skip-eval", action="store_true", help="no before/after evaluation")
    hub = parser.add_argument_group("hub")
    hub.add_argument("--push-to", metavar="REPO_ID", default=None, help="Hub model repo to create/update")
    hub.add_argument("--private", action="store_true", help="create the Hub repo as private")
    parser.add_argument("--verbose", action="store_true", help="log the libraries' INFO and DEBUG lines too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the job; returns the process exit code."""
    args = parse_args(argv)
    configure_logging(args.verbose)
    offline_unless_hub_resolves()
    try:
        config = FinetuneConfig(**{field.name: getattr(args, field.name) for field in fields(FinetuneConfig)})
        report = run_finetune(config)
    except SearchError as error:
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt as interrupt:
        logger.error("%s", interrupt or "Interrupted. Rerun the same command to resume from the last checkpoint.")
        return 130
    training = report.summary["training"]
    print(
        f"Model: {report.out} ({training['steps']} steps, loss {training['first_epoch_loss']:.4f} → "
        f"{training['last_epoch_loss']:.4f})"
    )
    if report.summary["evaluation"]:
        print(comparison_table(report.summary["evaluation"]["rows"]))
    if report.pushed_to:
        print(f"Pushed: {report.pushed_to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
