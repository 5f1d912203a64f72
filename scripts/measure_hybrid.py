"""The hybrid weight (α) and the composed image weight for a model trained earlier, on held-out products it never
trained on: scripts.finetune_shared_data's sweeps without the training, e.g. for the demo's shipped model.

    python -m scripts.measure_hybrid --model assets/demo/small-clip \
        --heldout build/real-finetune-40/model/training/heldout-catalog --work build/hybrid-small-clip

A bundle of the held-out products is built with the model and judged by the text, label and photo protocols over
every α (search.training.heldout.evaluate_model, cached in WORK/eval), then by the composed protocols with gender
ignored; the sweeps and the recommendation are printed and written to WORK/report.json with the machine and load.
A development measurement (the held-out catalog comes from a training run on ../shared/data).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

from scripts.common import write_report
from scripts.finetune_shared_data import LoadSampler, composed_without_gender, sweep
from search.evaluate import recommend
from search.training.heldout import EvalSettings, evaluate_model

PROTOCOL = "text,label,image"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a trained model folder")
    parser.add_argument("--heldout", type=Path, required=True, help="its training run's training/heldout-catalog")
    parser.add_argument("--work", type=Path, default=Path("build/hybrid"))
    parser.add_argument("--queries", type=int, default=1000, help="queries per protocol")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file() or not args.heldout.is_dir():
        print(f"Need a model folder ({args.model}) and a held-out catalog folder ({args.heldout}).", file=sys.stderr)
        return 2
    sampler = LoadSampler()
    sampler.start()
    started = time.perf_counter()
    settings = EvalSettings(PROTOCOL, args.queries, args.seed, batch_size=64, device="cpu", num_workers=1)
    key = {"heldout": str(args.heldout)}
    text = evaluate_model(str(args.model), None, args.heldout, args.work / "eval", settings, key)
    composed = composed_without_gender(args.work / "eval" / "bundle", args.queries, args.seed)
    sampler.stopped.set()
    text_sweep, composed_sweep = sweep(text["results"], "text"), sweep(composed, "composed")
    recommended = recommend(text["results"] + composed, "image")
    report = {
        "model": str(args.model),
        "heldout": str(args.heldout),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1min": sampler.summary(),
        "wall_minutes": (time.perf_counter() - started) / 60,
        "recommended": recommended,
        "text_sweep": text_sweep.to_dict("records"),
        "composed_sweep": composed_sweep.to_dict("records"),
    }
    write_report(report, args.work / "report.json")
    pd.set_option("display.width", 200)
    print(f"Machine {report['machine']}; load average {report['load_average_1min']}; {report['wall_minutes']:.1f} min")
    print("\nText protocols, nDCG@10 by α (0 = keyword, 1 = dense; min–max fusion):")
    print(text_sweep.pivot_table(index="protocol", columns="α", values="nDCG@10").round(3).to_string())
    print("\nComposed protocols (gender ignored), nDCG@10 by α and image weight:")
    table = composed_sweep.pivot_table(index=["protocol", "α"], columns="image weight", values="nDCG@10")
    print(table.round(3).to_string())
    print("\nRecommended (mean nDCG@10):", {k: v for k, v in recommended.items() if "table" not in k})
    return 0


if __name__ == "__main__":
    sys.exit(main())
