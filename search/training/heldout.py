"""Before/after evaluation on the held-out products: for each model, an index bundle of those products is built
with the real build (`run_build`) and judged by `search.evaluate` with its protocols, as a maintainer would."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from search.catalog.schema import IMAGE_COLUMN
from search.engine import SearchEngine
from search.evaluate import EvalConfig, evaluate
from search.evaluate.evaluator import DEFAULT_IMAGE_WEIGHTS, DEFAULT_SEMANTIC_WEIGHTS
from search.evaluate.protocols import COMPOSED, IMAGE, TEXT
from search.indexing import BuildConfig, run_build
from search.indexing.reader import stored_image
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT, DEFAULT_SEMANTIC_WEIGHT

logger = logging.getLogger(__name__)

REPORT_FILE = "report.json"
TABLE_METRICS = ("R@1", "R@10", "nDCG@10")
# The hybrid mix shown in the before/after table: the Space's default when it mixes, else an even mix.
HYBRID_WEIGHT = DEFAULT_SEMANTIC_WEIGHT if 0.0 < DEFAULT_SEMANTIC_WEIGHT < 1.0 else 0.5
# The sweeps, with the weights the table shows; part of a cached report's key (a new default means a new sweep).
SEMANTIC_WEIGHTS = sorted({*DEFAULT_SEMANTIC_WEIGHTS, HYBRID_WEIGHT})
IMAGE_WEIGHTS = sorted({*DEFAULT_IMAGE_WEIGHTS, DEFAULT_IMAGE_WEIGHT})
RESULT_KEY = ("protocol", "doc", "method", "fusion", "semantic_weight", "image_weight")
QUERY_KINDS = {TEXT: "text", IMAGE: "photo", COMPOSED: "photo + text"}


@dataclass(frozen=True)
class EvalSettings:
    """How the held-out products are judged (the same for the model before and after training)."""

    protocol: str
    queries: int
    seed: int
    batch_size: int
    device: str | None
    num_workers: int


def write_heldout_catalog(
    table: datasets.Dataset, rows: Sequence[int] | np.ndarray, root: Path | None, folder: Path
) -> Path:
    """The held-out products as a catalog folder (`save_to_disk`), written once per run, whole or not at all.
    Photos go in as bytes: a path relative to the source catalog's folder (`root`) would not resolve from here."""
    if folder.exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    heldout = table.select(list(rows)).map(lambda row: {IMAGE_COLUMN: _embedded(row[IMAGE_COLUMN], root)})
    heldout.save_to_disk(str(partial))
    os.replace(partial, folder)
    return folder


def _embedded(cell: object, root: Path | None) -> dict[str, Any] | None:
    data, _ = stored_image(cell, root)
    return None if data is None else {"bytes": data, "path": None}


def rows_digest(rows: Sequence[int] | np.ndarray) -> str:
    """Identifies a held-out set, so a cached report is reused only for the same products."""
    return hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()[:16]


def evaluate_model(
    model: str, revision: str | None, catalog: Path, folder: Path, settings: EvalSettings, key: dict[str, Any]
) -> dict[str, Any]:
    """Build the held-out bundle with `model` and evaluate it; a report cached under the same key is reused."""
    report_path = folder / REPORT_FILE
    key = {
        **key,
        "model": model,
        "revision": revision,
        "protocol": settings.protocol,
        "queries": settings.queries,
        "seed": settings.seed,
        "semantic_weights": SEMANTIC_WEIGHTS,
        "image_weights": IMAGE_WEIGHTS,
    }
    if report_path.exists():
        cached = json.loads(report_path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            logger.info("Using the evaluation of %s cached in %s", model, report_path)
            return cached
    bundle = folder / "bundle"
    logger.info("Evaluating %s on the held-out products", model)
    run_build(
        BuildConfig(
            out=bundle,
            dataset=str(catalog),
            model=model,
            model_revision=revision,
            device=settings.device,
            batch_size=settings.batch_size,
            num_workers=settings.num_workers,
            index_type="flat",
        )
    )
    engine = SearchEngine.load(bundle, device=settings.device)
    report = evaluate(
        engine,
        EvalConfig(
            index=str(bundle),
            protocol=settings.protocol,
            queries=settings.queries,
            seed=settings.seed,
            device=settings.device,
            semantic_weights=tuple(SEMANTIC_WEIGHTS),
            image_weights=tuple(IMAGE_WEIGHTS),
            doc_image_weights=(1.0,),
            latency_queries=0,
            batch_size=settings.batch_size,
        ),
    )
    result = {"key": key, **{name: getattr(report, name) for name in ("protocols", "results", "notes")}}
    partial = report_path.with_suffix(".partial")
    partial.write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    os.replace(partial, report_path)
    return result


def _shown(result: dict[str, Any]) -> str | None:
    """The table's name for a result it shows (dense, keyword, the hybrid mix; composed at the default image
    weight), None for the rest of the sweep (which stays in the reports)."""
    composed = result["kind"] == COMPOSED
    image_weight = result["image_weight"]
    if composed and image_weight != DEFAULT_IMAGE_WEIGHT:
        return None
    suffix = f" (image weight {image_weight:g})" if composed else ""
    if result["method"] == "dense":
        return "dense" + suffix
    if result["method"] == "keyword":
        return "keyword"
    if result["fusion"] == "minmax" and result["semantic_weight"] == HYBRID_WEIGHT:
        return f"hybrid α={HYBRID_WEIGHT:g}" + suffix
    return None


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (protocol, method, queries, metrics before, metrics after) for the results the table shows."""

    def key(result: dict[str, Any]) -> tuple:
        return tuple(result[name] for name in RESULT_KEY)

    earlier = {key(result): result for result in before["results"]}
    rows = []
    for result in after["results"]:
        method = _shown(result)
        if method is None or key(result) not in earlier:
            continue
        rows.append(
            {
                "protocol": result["protocol"],
                "kind": QUERY_KINDS[result["kind"]],
                "method": method,
                "queries": result["queries"],
                "before": {m: earlier[key(result)]["metrics"].get(m) for m in TABLE_METRICS},
                "after": {m: result["metrics"].get(m) for m in TABLE_METRICS},
            }
        )
    return rows


def comparison_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: each metric as before → after."""
    header = ["protocol", "query", "method", "queries", *(f"{m} before → after" for m in TABLE_METRICS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["protocol"], row["kind"], row["method"], str(row["queries"])]
        cells += [f"{_number(row['before'][m])} → {_number(row['after'][m])}" for m in TABLE_METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"
