"""int8 against float32 for a trained model, where it is served: queries encoded in each precision against the same
float32 bundle (an index is built once; the app encodes every query). Per protocol, the dense R@10 in each precision
and its drop; over every query, the share of the float32 top 10 that int8 keeps.

    python -m scripts.measure_int8 --bundle build/real-finetune-40/model/training/eval-after/bundle

The bundle's model (its manifest's) is loaded twice: float32 (ONNX Runtime on the CPU) and PyTorch dynamic int8.
A development measurement; benchmarks.precision measures the speed of each precision.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from scripts.common import write_report
from search.encoding.encoder import Encoder
from search.engine import SearchEngine
from search.evaluate import EvalConfig, evaluate
from search.evaluate.protocols import IMAGE, TEXT

TOP = 10


def dense_recall(report: Any) -> dict[str, float]:
    """Protocol → R@10 of pure dense search on image-only documents (text and photo protocols)."""
    return {
        r["protocol"]: r["metrics"]["R@10"]
        for r in report.results
        if r["method"] == "dense" and r["kind"] in (TEXT, IMAGE) and r["doc"] == "image"
    }


def top10_overlap(reference: SearchEngine, candidate: SearchEngine, texts: list[str], photos: list[int]) -> dict:
    """Mean share of float32's top 10 kept by the candidate, for text queries and for product-photo queries (the
    products without a stored photo left out)."""

    def kept(vectors_a: np.ndarray, vectors_b: np.ndarray) -> float:
        shares = [
            len(set(reference.search_vector(a, TOP).ids) & set(reference.search_vector(b, TOP).ids)) / TOP
            for a, b in zip(vectors_a, vectors_b, strict=True)
        ]
        return float(np.mean(shares))

    images = [image for product in photos if (image := reference.product_image(product)) is not None]
    return {
        "text": kept(reference.encoder.encode_text(texts), candidate.encoder.encode_text(texts)),
        "image": kept(reference.encoder.encode_images(images), candidate.encoder.encode_images(images)),
        "text_queries": len(texts),
        "image_queries": len(images),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True, help="a float32 bundle built with the model")
    parser.add_argument("--protocol", default="text,label,image")
    parser.add_argument("--queries", type=int, default=1000, help="queries per protocol")
    parser.add_argument("--overlap-queries", type=int, default=500, help="text and photo queries for the overlap")
    parser.add_argument("--out", type=Path, default=Path("build/int8.json"))
    args = parser.parse_args(argv)
    float32 = SearchEngine.load(args.bundle)
    model = float32.manifest.model
    int8 = SearchEngine.load(args.bundle, encoder=Encoder.load(model.id, model.revision, "cpu", "int8"))
    config = EvalConfig(
        index=str(args.bundle),
        protocol=args.protocol,
        queries=args.queries,
        semantic_weights=(0.0, 1.0),
        doc_image_weights=(1.0,),
        latency_queries=0,
    )
    recall = {name: dense_recall(evaluate(engine, config)) for name, engine in (("float32", float32), ("int8", int8))}
    rng = np.random.default_rng(0)
    rows = rng.permutation(float32.num_products)[: args.overlap_queries]
    names = float32.catalog_labels(["productDisplayName", "articleType", "baseColour"]).iloc[rows]
    texts = [name or f"{colour} {kind}" for _, name, kind, colour in names.itertuples(index=False)]
    overlap = top10_overlap(float32, int8, texts, [int(float32.products.ids[row]) for row in rows])
    report = {
        "bundle": str(args.bundle),
        "model": model.id,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1min": os.getloadavg()[0],
        "dense_R@10": recall,
        "top10_overlap": overlap,
    }
    write_report(report, args.out)
    print(f"{'protocol':32} {'R@10 float32':>12} {'R@10 int8':>10} {'drop':>7}")
    for protocol, value in recall["float32"].items():
        other = recall["int8"][protocol]
        print(f"{protocol:32} {value:12.3f} {other:10.3f} {value - other:7.3f}")
    print(f"top-10 overlap with float32: text {overlap['text']:.3f}, photos {overlap['image']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
