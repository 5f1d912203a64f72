"""The model card (README.md) of a fine-tuned model: data, settings, training and the before/after table."""

from __future__ import annotations

from typing import Any

from search.bundle import looks_like_repo_id
from search.training.heldout import comparison_table

TAGS = ("clip", "fashion", "product-search", "image-text-retrieval", "contrastive-learning")


def _front_matter(summary: dict[str, Any]) -> str:
    lines = ["---", "library_name: transformers", "pipeline_tag: zero-shot-image-classification"]
    base, dataset = summary["base_model"]["id"], summary["dataset"]["id"]
    if looks_like_repo_id(base):
        lines.append(f"base_model: {base}")
    if looks_like_repo_id(dataset):
        lines += ["datasets:", f"- {dataset}"]
    lines += ["tags:", *(f"- {tag}" for tag in TAGS), "---"]
    return "\n".join(lines)


def _table(rows: list[tuple[str, Any]]) -> str:
    return "\n".join(["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def model_card(summary: dict[str, Any], repo_id: str | None = None) -> str:
    """Markdown with YAML front matter, from the run summary `runner` writes as finetune.json."""
    base, data, settings = summary["base_model"], summary["dataset"], summary["settings"]
    training, evaluation = summary["training"], summary["evaluation"]
    fields = ", ".join(f"`{name}` ×{weight:g}" for name, weight in settings["fields"].items())
    title = repo_id or "Fine-tuned fashion CLIP"
    data_rows = [
        ("Dataset", f"`{data['id']}`, split `{data['split']}`, revision `{data['revision'] or 'local folder'}`"),
        ("Products", f"{data['rows']:,} ({data['train']:,} trained on, {data['heldout']:,} held out)"),
        ("Held-out split", "by product, seeded; products sharing a name stay on one side; never trained on"),
        ("Text fields (loss weight)", fields),
    ]
    setting_rows = [
        ("Base model", f"`{base['id']}` (revision `{base['revision'] or 'local folder'}`)"),
        ("Loss", "multi-field CLIP InfoNCE (one term per text field; shared labels are multi-positive)"),
        ("Epochs", settings["epochs"]),
        ("Batch", f"{settings['batch_size']} products × {settings['accumulation']} accumulated"),
        (
            "Optimiser",
            f"AdamW, lr {settings['lr']:g}, weight decay {settings['weight_decay']:g}, "
            f"warm-up {settings['warmup']:.0%} then cosine, gradient norm ≤ {settings['max_grad_norm']:g}",
        ),
        ("Augmentation", "horizontal flips" if settings["flip"] else "none"),
        ("Precision / device", f"{training['precision']} on {training['device']}"),
        ("Seed", settings["seed"]),
    ]
    training_rows = [
        ("Optimiser steps", f"{training['steps']:,}"),
        ("Mean loss, first → last epoch", f"{training['first_epoch_loss']:.4f} → {training['last_epoch_loss']:.4f}"),
        ("Training time", f"{training['seconds'] / 60:.1f} min on {summary['machine']}"),
    ]
    if evaluation is None:
        evaluation_text = "Not evaluated (`--skip-eval`)."
    else:
        evaluation_text = (
            f"Index bundles of the {data['heldout']:,} held-out products were built with the model before and "
            "after training and judged with `python -m search.evaluate`'s protocols "
            f"(`{evaluation['protocol']}`, up to {evaluation['queries']} queries each, seed {evaluation['seed']}). "
            "Keyword rows do not depend on the model.\n\n" + comparison_table(evaluation["rows"])
        )
    return f"""{_front_matter(summary)}

# {title}

`{base["id"]}` fine-tuned contrastively on the product photos and texts of `{data["id"]}` with `finetune.py`
of the fashion product search project. It is a `save_pretrained` folder: build the Space's index with it as is.

## Data
{_table(data_rows)}

## Settings
{_table(setting_rows)}

## Training
{_table(training_rows)}

## Held-out evaluation (before → after)
{evaluation_text}

## Use it
```bash
python index_build.py --model {repo_id or "<this folder>"} --out build/fashion-index
```
"""
