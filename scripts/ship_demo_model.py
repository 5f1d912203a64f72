"""Ship a model trained by scripts.finetune_shared_data as the demo's model in assets/demo/small-clip: its weights
(safetensors), configuration, tokenizer and processor files, its ONNX towers (exported and checked against PyTorch
here, so that the app's first start exports nothing), and its model card with the exact command that trained it and
the run's machine, load and time.

    python -m scripts.ship_demo_model --run build/real-finetune-40 --out assets/demo/small-clip --command \
        "python -m scripts.finetune_shared_data --data ../shared/data --work build/real-finetune-40 --epochs 40" \
        --history "Interrupted once at step 1,160 and resumed from its checkpoint by the same command."
    python -m scripts.ship_demo_model --onnx-only    # after an upgrade of torch, transformers, onnx or onnxscript

Run by maintainers only; the app and the tests read what it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from search.encoding.encoder import model_export
from search.encoding.onnx_files import copy_export
from search.paths import CACHE_DIR_ENV

# What a save_pretrained CLIP folder needs to load; finetune.py's run files (card, finetune.json, training/) stay out.
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "processor_config.json",
    "preprocessor_config.json",
)
ONNX_FOLDER = "onnx"
MAX_WEIGHTS_MB = 15


def copy_model(source: Path, out: Path) -> list[str]:
    """The model's files into a fresh `out`; refuses weights that are not safetensors or larger than 15 MB."""
    weights = source / "model.safetensors"
    if not weights.is_file():
        raise ValueError(f"{source} holds no model.safetensors: not a finished finetune.py model folder.")
    if weights.stat().st_size > MAX_WEIGHTS_MB * 1e6:
        raise ValueError(f"{weights} is {weights.stat().st_size / 1e6:.1f} MB, over the {MAX_WEIGHTS_MB} MB allowed.")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copied = [name for name in MODEL_FILES if (source / name).is_file()]
    for name in copied:
        shutil.copy2(source / name, out / name)
    return copied


def export_onnx(model: Path) -> None:
    """The model's towers exported through the app's own exporter (checked against PyTorch) into model/onnx/."""
    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get(CACHE_DIR_ENV)
        os.environ[CACHE_DIR_ENV] = cache
        try:
            copy_export(model_export(str(model)), model / ONNX_FOLDER)
        finally:
            if previous is None:
                os.environ.pop(CACHE_DIR_ENV)
            else:
                os.environ[CACHE_DIR_ENV] = previous


def provenance(report: dict[str, Any], command: str, history: str = "") -> str:
    """The card's section on how the model was made: the exact command, the machine, its load and the times, and
    what happened to the run (`history`: an interruption, a resume) when the report alone would mislead."""
    training, load = report["training"], report["load_average_1min"]
    history_line = f"\n- History of the run: {history}" if history else ""
    return f"""
## How this model was made

It ships with the fashion product search repository as the model of its demo (`assets/demo/`), and was trained with
the repository's own `finetune.py` job by exactly this command, from the repository root, with the project's real
reference data (9,583 real product photos of the Kaggle "Fashion Product Images" catalog, their KAGL labels and, for
580 of them, their real names) in `../shared/data`:

```
{command}
```

- Model before training: `search/fixtures/configs/clip-small.json` with random weights (seed 0) and a byte-level
  BPE tokenizer learnt from the training products' texts only (held-out words stay unseen).
- Machine: {report["machine"]}, shared with other work: 1-minute load average {load["mean"]:.1f} on average
  (max {load["max"]:.1f}, {load["samples"]} samples, every 30 s).
- Time: training {training["seconds"] / 60:.1f} min ({training["steps"]:,} optimiser steps), the whole run with the
  evaluations {report["wall_minutes"]:.1f} min.{history_line}
- `onnx/`: the text and image towers exported by `search.encoding.onnx_export` (opset 18, checked against PyTorch to
  cosine ≥ 0.9999) by `python -m scripts.ship_demo_model`, so the app's first start exports nothing.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="the --work folder of scripts.finetune_shared_data")
    parser.add_argument("--out", type=Path, default=Path("assets/demo/small-clip"))
    parser.add_argument("--command", help="the exact command that trained it, for the card")
    parser.add_argument("--history", default="", help="what the report does not say: an interruption, a resume")
    parser.add_argument("--onnx-only", action="store_true", help="export the shipped model's ONNX towers again only")
    args = parser.parse_args(argv)
    if args.onnx_only:
        shutil.rmtree(args.out / ONNX_FOLDER, ignore_errors=True)
        export_onnx(args.out)
        print(f"Exported {args.out / ONNX_FOLDER}")
        return 0
    if not args.run or not args.command:
        parser.error("--run and --command are needed (or --onnx-only)")
    try:
        report = json.loads((args.run / "report.json").read_text())
        copied = copy_model(args.run / "model", args.out)
    except (OSError, ValueError, KeyError) as error:
        print(f"Cannot ship {args.run}: {error}", file=sys.stderr)
        return 2
    export_onnx(args.out)
    card = (args.run / "model" / "README.md").read_text(encoding="utf-8")
    (args.out / "README.md").write_text(
        card.rstrip("\n") + "\n" + provenance(report, args.command, args.history), encoding="utf-8"
    )
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file()) / 1e6
    print(f"Shipped {', '.join(copied)}, onnx/ and README.md to {args.out} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
