"""The evaluation command line:

python -m search.evaluate --index build/fashion-index --protocol all --out report.json
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pandas as pd

from search.encoding.vectors import mix_label
from search.engine import SearchEngine
from search.errors import SearchError
from search.evaluate.evaluator import (
    DEFAULT_DOC_IMAGE_WEIGHTS,
    DEFAULT_IMAGE_WEIGHTS,
    DEFAULT_SEMANTIC_WEIGHTS,
    EvalConfig,
    evaluate,
)
from search.evaluate.report import results_table
from search.ranking.hybrid import FUSION_METHODS

logger = logging.getLogger("search.evaluate")


def _weights(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from error
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"weights must be between 0 and 1, got {text!r}")
    return values


def _fusions(text: str) -> tuple[str, ...]:
    values = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [v for v in values if v not in FUSION_METHODS]
    if unknown or not values:
        raise argparse.ArgumentTypeError(f"fusion methods are {', '.join(FUSION_METHODS)}; got {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> EvalConfig:
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", required=True, help="bundle folder or Hub dataset repo id")
    parser.add_argument("--revision", default=None, help="Hub revision of the bundle")
    parser.add_argument(
        "--protocol",
        default="all",
        help="comma-separated protocols or groups: all, text, label, category, colour, season-usage, image, composed",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--limit", type=int, default=None, help="evaluate on the first N products only")
    parser.add_argument("--queries", type=int, default=2000, help="queries sampled per protocol (fixed seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... for the query encoder")
    parser.add_argument("--semantic-weights", type=_weights, default=DEFAULT_SEMANTIC_WEIGHTS, metavar="A,B,...")
    parser.add_argument("--image-weights", type=_weights, default=DEFAULT_IMAGE_WEIGHTS, metavar="A,B,...")
    parser.add_argument("--doc-image-weights", type=_weights, default=DEFAULT_DOC_IMAGE_WEIGHTS, metavar="A,B,...")
    parser.add_argument("--fusion", dest="fusions", type=_fusions, default=FUSION_METHODS, metavar="minmax,rrf")
    parser.add_argument("--latency-queries", type=int, default=50, help="engine calls timed per kind (0: none)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be at least 1, got {args.limit}")
    if args.queries < 1:
        parser.error(f"--queries must be at least 1, got {args.queries}")
    return EvalConfig(**vars(args))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = parse_args(argv)
        engine = SearchEngine.load(config.index, revision=config.revision, device=config.device)
        report = evaluate(engine, config)
    except (SearchError, ValueError) as error:
        logger.error("%s", error)
        return 1
    print(results_table(report.results, mix_label(engine.manifest.index.doc_image_weight)))
    if report.latency_ms:
        print()
        print(pd.DataFrame(report.latency_ms).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print()
    print("Recommended:", json.dumps({k: v for k, v in report.recommended.items() if k != "semantic_weight_table"}))
    for note in report.notes:
        print("Note:", note)
    return 0
