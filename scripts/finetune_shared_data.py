"""Issue 16's real measurement: a small CLIP trained from scratch by finetune.py on the real photos, names and labels
in ../shared/data, judged on held-out products; then the hybrid α sweep and the composed image-weight sweep on them.

    python -m scripts.finetune_shared_data --data ../shared/data --work build/real-finetune --epochs 6

1. the local catalog of the 9,583 photos (scripts.shared_catalog) → WORK/catalog;
2. a random-weight CLIP of search/fixtures/configs/clip-small.json whose tokenizer is learnt from the *training*
   products' texts (held-out words stay unseen) → WORK/scratch-model;
3. finetune.py's job on it → WORK/model (held-out before/after: dense, keyword, hybrid);
4. on the trained model's held-out bundle: the α sweep of the text protocols, and the composed protocols with
   gender ignored (this data has no gender) over image weights.
The load average is sampled every 30 s while it runs; everything is printed and written to WORK/report.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.shared_catalog import PARQUET_FILE, shared_catalog
from search.catalog.schema import load_catalog
from search.engine import SearchEngine
from search.evaluate import EvalConfig, Evaluator, Report, recommend
from search.evaluate.protocols import build_protocols
from search.fixtures.random_model import save_random_clip
from search.training.config import FinetuneConfig, parse_fields
from search.training.data import field_text, split_rows
from search.training.heldout import SEMANTIC_WEIGHTS, comparison_table
from search.training.runner import run_finetune

SWEEP_METRICS = ("R@10", "nDCG@10")
COMPOSED = ("composed-baseColour", "composed-articleType")


class LoadSampler(threading.Thread):
    """The 1-minute load average every `every` seconds, so the report says how busy the shared machine was."""

    def __init__(self, every: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self.stopped = every, [os.getloadavg()[0]], threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        return {"mean": float(np.mean(self.samples)), "max": float(np.max(self.samples)), "samples": len(self.samples)}


def scratch_model(catalog: Path, folder: Path, config: FinetuneConfig) -> Path:
    """The small CLIP with random weights and a tokenizer learnt from the training split's texts only."""
    if (folder / "config.json").exists():
        return folder
    table, _ = load_catalog(str(catalog))
    split = split_rows(table, config.heldout_share, config.seed)
    records = table.select(split.train.tolist()).remove_columns("image").to_list()
    texts = [text for record in records for f in config.fields if (text := field_text(record, f))]
    return save_random_clip("clip-small", folder, seed=config.seed, texts=texts)


def sweep(results: list[dict[str, Any]], kind: str) -> pd.DataFrame:
    """nDCG@10 and R@10 of dense, keyword and every min–max hybrid α (text), or every image weight (composed)."""
    rows = []
    for r in results:
        if r["kind"] != kind or (r["fusion"] not in (None, "minmax")):
            continue
        rows.append(
            {
                "protocol": r["protocol"],
                "image weight": r["image_weight"],
                "α": r["semantic_weight"],
                **{m: r["metrics"][m] for m in SWEEP_METRICS},
            }
        )
    return pd.DataFrame(rows)


def composed_without_gender(bundle: Path, queries: int, seed: int) -> list[dict[str, Any]]:
    """The composed protocols with every product's gender set alike: relevant = that colour (or article type) and
    the reference's other label, any gender."""
    engine = SearchEngine.load(bundle)
    config = EvalConfig(
        index=str(bundle),
        queries=queries,
        seed=seed,
        semantic_weights=tuple(SEMANTIC_WEIGHTS),
        doc_image_weights=(1.0,),
        latency_queries=0,
    )
    evaluator = Evaluator(engine, config, Report(config={}, bundle={}, machine={}))
    frame = evaluator.frame.assign(gender="any")
    documents = evaluator.documents()
    for protocol in build_protocols(frame, list(COMPOSED), queries, seed):
        evaluator.run(protocol, documents)
    return evaluator.report.results


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("build/real-finetune"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--heldout-share", type=float, default=0.2)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--num-workers", type=int, default=1)
    args = parser.parse_args(argv)
    sampler = LoadSampler()
    sampler.start()
    started = time.perf_counter()
    catalog = args.work / "catalog"
    if not (catalog / PARQUET_FILE).exists():
        catalog.mkdir(parents=True, exist_ok=True)
        shared_catalog(args.data).to_parquet(str(catalog / PARQUET_FILE))
    config = FinetuneConfig(
        dataset=str(catalog),
        model=str(args.work / "scratch-model"),
        out=args.work / "model",
        fields=parse_fields("name:1,labels:1,articleType:0.5,baseColour:0.5,subCategory:0.25"),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        heldout_share=args.heldout_share,
        num_workers=args.num_workers,
        eval_protocol="text,label,image",
        eval_queries=args.queries,
        save_every=20,
    )
    scratch_model(catalog, Path(config.model), config)
    summary = run_finetune(config).summary
    after = json.loads((config.work_dir / "eval-after" / "report.json").read_text())
    composed = {
        name: composed_without_gender(config.work_dir / f"eval-{name}" / "bundle", args.queries, config.seed)
        for name in ("before", "after")
    }
    sampler.stopped.set()
    text_sweep, composed_sweep = sweep(after["results"], "text"), sweep(composed["after"], "composed")
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1min": sampler.summary(),
        "wall_minutes": (time.perf_counter() - started) / 60,
        "training": {k: v for k, v in summary["training"].items() if k != "losses"},
        "dataset": summary["dataset"],
        "before_after": summary["evaluation"]["rows"],
        "recommended_after": recommend(after["results"] + composed["after"], "image"),
        "text_sweep_after": text_sweep.to_dict("records"),
        "composed_sweep": {name: sweep(results, "composed").to_dict("records") for name, results in composed.items()},
    }
    (args.work / "report.json").write_text(json.dumps(report, indent=2, default=float))
    pd.set_option("display.width", 200)
    load, minutes = report["load_average_1min"], report["wall_minutes"]
    print(f"\nMachine {report['machine']}; load average {load}; {minutes:.1f} min")
    print(f"Training: {report['training']}")
    print("\nHeld-out, before (random init) → after:\n" + comparison_table(summary["evaluation"]["rows"]))
    print("\nText protocols after training, min–max hybrid sweep (α = semantic weight):")
    print(text_sweep.pivot_table(index="protocol", columns="α", values="nDCG@10").round(3).to_string())
    print("\nComposed protocols (gender ignored) after training, nDCG@10 by α (1 = dense) and image weight:")
    table = composed_sweep.pivot_table(index=["protocol", "α"], columns="image weight", values="nDCG@10")
    print(table.round(3).to_string())
    print("\nRecommended (mean nDCG@10):", {k: v for k, v in report["recommended_after"].items() if "table" not in k})
    return 0


if __name__ == "__main__":
    sys.exit(main())
