"""The evaluation report: what was run on which bundle and machine, every metric, the recommended defaults and the
tables printed for people."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from search.evaluate.protocols import COMPOSED, TEXT
from search.ranking.hybrid import DEFAULT_IMAGE_WEIGHT

SELECTION_METRIC = "nDCG@10"
TABLE_COLUMNS = ("R@1", "R@10", "R@50", "P@1", "P@10", "MRR", "mAP@10", "nDCG@10", "AvgRecall", "AvgP")


@dataclass
class Report:
    config: dict[str, Any]
    bundle: dict[str, Any]
    machine: dict[str, Any]
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: list[dict[str, Any]] = field(default_factory=list)
    recommended: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def recommend(results: list[dict[str, Any]], bundle_doc: str) -> dict[str, Any]:
    """Defaults that maximise the mean nDCG@10 over protocols: document representation (dense, text queries),
    semantic weight and fusion (text queries, the bundle's documents), image weight (composed, dense)."""
    frame = pd.DataFrame(
        [{**{k: v for k, v in r.items() if k != "metrics"}, "score": r["metrics"][SELECTION_METRIC]} for r in results]
    )
    if frame.empty:
        return {}
    frame["fusion"] = frame["fusion"].fillna("-")
    recommended: dict[str, Any] = {"criterion": f"mean {SELECTION_METRIC} over protocols"}
    text = frame[frame.kind == TEXT]
    dense_text = text[text.method == "dense"]
    if dense_text.doc.nunique() > 1:
        recommended["doc"] = dense_text.groupby("doc").score.mean().idxmax()
    own = text[(text.doc == bundle_doc) | (text.method == "keyword")]
    if not own.empty:
        means = own.groupby(["method", "fusion", "semantic_weight"]).score.mean()
        _, fusion, weight = means.idxmax()
        recommended |= {"semantic_weight": float(weight), "fusion": None if fusion == "-" else fusion}
        recommended["semantic_weight_table"] = {f"{m} {f} {w:g}": round(v, 4) for (m, f, w), v in means.items()}
    composed = frame[(frame.kind == COMPOSED) & (frame.method == "dense") & (frame.doc == bundle_doc)]
    if not composed.empty:
        recommended["image_weight"] = float(composed.groupby("image_weight").score.mean().idxmax())
    return recommended


def method_label(result: dict[str, Any]) -> str:
    """A short column name: dense[doc], keyword, α=0.5 (min–max fusion) or rrf α=0.5."""
    if result["method"] == "dense":
        return "dense" if result["doc"] == "image" else f"dense[{result['doc']}]"
    if result["method"] == "keyword":
        return "keyword"
    doc = "" if result["doc"] == "image" else f"[{result['doc']}]"
    return f"{'rrf ' if result['fusion'] == 'rrf' else ''}α={result['semantic_weight']:g}{doc}"


def results_table(results: list[dict[str, Any]], bundle_doc: str = "image", metric: str = SELECTION_METRIC) -> str:
    """Two views: every metric of the pure searches, and one metric of every method on the bundle's documents
    (where hybrid wins); the JSON report holds everything."""
    if not results:
        return "No results."
    detail = pd.DataFrame(
        [
            {"protocol": r["protocol"], "w_img": r["image_weight"], "method": method_label(r), "n": r["queries"]}
            | {name: r["metrics"].get(name, np.nan) for name in TABLE_COLUMNS}
            for r in results
            if r["method"] != "hybrid" and r["image_weight"] in (None, 0.0, 1.0, DEFAULT_IMAGE_WEIGHT)
        ]
    )
    sweep = pd.DataFrame(
        [
            {
                "protocol": r["protocol"] + (f" w_img={r['image_weight']:g}" if r["kind"] == COMPOSED else ""),
                "method": method_label(r),
                metric: r["metrics"][metric],
            }
            for r in results
            if r["doc"] in ("-", bundle_doc)
        ]
    )
    pivot = sweep.pivot_table(index="protocol", columns="method", values=metric, sort=False)
    float_format = lambda v: f"{v:.3f}"  # noqa: E731
    return (
        f"{detail.to_string(index=False, float_format=float_format, na_rep='-')}\n\n"
        f"{metric} of every method (α = semantic weight):\n{pivot.to_string(float_format=float_format, na_rep='-')}"
    )


def machine_info(device: str) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "python": platform.python_version(),
    }


def write_report(report: Report, path: Path) -> None:
    """The whole report as JSON (numpy numbers as plain numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=2, default=_json_default), encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")
