"""How often the zero-shot label guess of a photo is right, and how many photos get one, per required margin.

A development measurement (not a test: it needs ../shared/data). Photos are the real catalog photos in
`product-images/`, labels their real KAGL articleType and baseColour; the candidate labels are every label of the
44,434-product catalog, as the engine offers them. For each margin (probability lead of the top label over the
runner-up): coverage = share of photos whose guess is shown, precision = share of shown guesses that are right.

    python -m scripts.measure_zero_shot --model clip-tiny --photos 2000
    python -m scripts.measure_zero_shot --model /path/to/fashion-clip --photos 9583     # a real model folder
    python -m scripts.measure_zero_shot --model MODEL --only-catalog MODEL/training/heldout-catalog --photos 9583
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from PIL import Image
from tqdm import tqdm

from scripts.check_kagl_protocols import kagl_catalog, load_ground_truth
from scripts.common import SHARED_PHOTOS, add_ground_truth_argument, missing_reference_data, model_folder, write_report
from search.encoding.encoder import Encoder
from search.zero_shot import PROMPTS, LabelGuesser

MARGINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def evaluate(guesser: LabelGuesser, vectors: np.ndarray, truth: dict[str, list[str]]) -> dict[str, Any]:
    """Accuracy of the top guess, and coverage and precision of the guesses shown at each margin, per field."""
    guesses = [guesser.guess(vector) for vector in vectors]
    result = {}
    for number, field in enumerate(guesser.labels):
        right = np.array([g[number].label == label for g, label in zip(guesses, truth[field], strict=True)])
        margins = np.array([g[number].margin for g in guesses])
        result[field] = {
            "labels": len(guesser.labels[field]),
            "top-1 accuracy": float(right.mean()),
            "chance (most common label)": float(max(truth[field].count(x) for x in set(truth[field])) / len(right)),
            "margin percentiles": {f"p{p}": float(np.percentile(margins, p)) for p in (50, 90, 99, 100)},
            "by margin": {
                str(margin): {
                    "coverage": float((margins >= margin).mean()),
                    "precision": float(right[margins >= margin].mean()) if (margins >= margin).any() else None,
                }
                for margin in MARGINS
            },
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ground_truth_argument(parser)
    parser.add_argument("--images", type=Path, default=SHARED_PHOTOS)
    parser.add_argument("--model", default="clip-tiny", help="a random config name or a model folder")
    parser.add_argument("--photos", type=int, default=2000, help="photos sampled (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only-catalog",
        type=Path,
        help="only the photos of this catalog's products (a save_to_disk folder, e.g. a fine-tuned model's "
        "training/heldout-catalog: photos the model never trained on)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/zero-shot.json"))
    args = parser.parse_args(argv)
    if missing_reference_data(args.ground_truth, args.images):
        return 2
    frame = kagl_catalog(load_ground_truth(args.ground_truth)).set_index("id")
    paths = [p for p in sorted(args.images.glob("*.jpg")) if int(p.stem) in frame.index]
    if args.only_catalog is not None:
        wanted = set(datasets.load_from_disk(str(args.only_catalog))["id"])
        paths = [p for p in paths if int(p.stem) in wanted]
    rng = np.random.default_rng(args.seed)
    paths = [paths[i] for i in sorted(rng.choice(len(paths), size=min(args.photos, len(paths)), replace=False))]
    choices = {field: sorted(label for label in frame[field].unique() if label) for field in PROMPTS}
    truth = {field: [frame.at[int(p.stem), field] for p in paths] for field in PROMPTS}
    with tempfile.TemporaryDirectory() as folder:
        encoder = Encoder.load(str(model_folder(args.model, Path(folder))), device="cpu")
        guesser = LabelGuesser.build(encoder.encode_text, choices, scale=encoder.logit_scale)
        vectors = np.concatenate(
            [
                encoder.encode_images([Image.open(p).convert("RGB") for p in paths[start : start + 32]])
                for start in tqdm(range(0, len(paths), 32), desc="encode photos")
            ]
        )
    report = {
        "machine": {"cpu_count": os.cpu_count(), "load": os.getloadavg()},
        "model": args.model,
        "photos": len(paths),
        "only_catalog": str(args.only_catalog) if args.only_catalog else None,
        "logit_scale": guesser.scale,
        "prompts": PROMPTS,
        "fields": evaluate(guesser, vectors, truth),
    }
    write_report(report, args.out, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
