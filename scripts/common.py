"""What the measurement scripts share: where the reference data lies (it is not part of the project), refusing to
run without it, the JSON report they write, and the model a run encodes with."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from search.fixtures.random_model import saved_random_clip

SHARED_DATA = Path("../shared/data")
KAGL_GROUND_TRUTH = SHARED_DATA / "kagl-ground-truth"
SHARED_PHOTOS = SHARED_DATA / "product-images"


def add_ground_truth_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ground-truth", type=Path, default=KAGL_GROUND_TRUTH, help="KAGL's ground-truth folder")


def missing_reference_data(*folders: Path) -> bool:
    """Whether a folder of reference data is missing, said on stderr (the scripts then exit with status 2)."""
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        print(
            f"Reference data not found at {', '.join(missing)}: these measurements need the project's real reference "
            "data, which is not part of the repository; give its folders with the script's options (--help).",
            file=sys.stderr,
        )
    return bool(missing)


def write_report(report: Mapping[str, Any], out: Path, echo: bool = False) -> None:
    """The run's JSON report written to `out` (NumPy numbers as floats); printed too with `echo`."""
    text = json.dumps(report, indent=2, default=float)
    if echo:
        print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def model_folder(model: str, work: Path) -> Path:
    """`model` itself when it is a model folder, else a random-weight CLIP of that config saved under `work`."""
    return Path(model) if Path(model).is_dir() else saved_random_clip(model, work / model)
