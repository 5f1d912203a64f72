"""The model card states the data, the settings, the training and the before/after table."""

import numpy as np

from search.catalog.schema import CatalogSource
from search.training.card import model_card
from search.training.checkpoint import TrainingState
from search.training.config import FinetuneConfig
from search.training.data import Split
from search.training.runner import run_summary

ROWS = [
    {
        "protocol": "text",
        "kind": "text",
        "method": "dense",
        "queries": 40,
        "before": {"R@1": 0.1, "R@10": 0.2, "nDCG@10": 0.15},
        "after": {"R@1": 0.3, "R@10": 0.6, "nDCG@10": 0.45},
    }
]


def summary(model: str, dataset: str, evaluated: bool) -> dict:
    config = FinetuneConfig(dataset=dataset, model=model, out="out", epochs=2, lr=3e-5, batch_size=8)
    state = TrainingState(
        config.fingerprint(),
        config.result_settings(),
        total_steps=4,
        step=4,
        epoch=2,
        losses=[3.0, 2.0, 1.5, 1.0],
        seconds=90.0,
        info={"device": "cpu", "precision": "fp32", "base_revision": "abc123"},
    )
    split = Split(train=np.arange(30), heldout=np.arange(30, 40))
    result = run_summary(config, CatalogSource(dataset, "train", "rev1", 40), split, state, {})
    if evaluated:
        result["evaluation"] = {"protocol": "text", "queries": 100, "seed": 0, "rows": ROWS}
    return result


def test_card_of_hub_sources():
    card = model_card(summary("openai/clip-vit-base-patch32", "ashraq/fashion-product-images-small", True), "me/tuned")
    front = card.split("---")[1]
    assert "base_model: openai/clip-vit-base-patch32" in front
    assert "- ashraq/fashion-product-images-small" in front and "library_name: transformers" in front
    assert "# me/tuned" in card
    assert "| Products | 40 (30 trained on, 10 held out) |" in card
    assert "`name` ×1, `labels` ×1, `articleType` ×0.5" in card
    assert "AdamW, lr 3e-05" in card and "| Epochs | 2 |" in card and "8 products × 1 accumulated" in card
    assert "| Mean loss, first → last epoch | 2.5000 → 1.2500 |" in card
    assert "| text | text | dense | 40 | 0.100 → 0.300 | 0.200 → 0.600 | 0.150 → 0.450 |" in card
    assert "python index_build.py --model me/tuned" in card


def test_card_of_local_sources_without_evaluation():
    card = model_card(summary("/models/base", "/data/catalog", False))
    front = card.split("---")[1]
    assert "base_model" not in front and "datasets" not in front
    assert "Not evaluated (`--skip-eval`)." in card
    assert "revision `abc123`" in card
