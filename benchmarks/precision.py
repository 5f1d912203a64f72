"""Encoder precisions compared: speed of each on this CPU, and how much their results differ from float32.

A lower precision counts as a speed-up only if its top-10 results stay the float32 ones (overlap ≥ 0.99).
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import Report, percentiles, time_each
from benchmarks.fixtures import PhotoSet, text_queries
from search.encoding.encoder import Encoder

logger = logging.getLogger(__name__)

MIN_OVERLAP = 0.99


def top10(index_vectors: np.ndarray, queries: np.ndarray) -> list[list[int]]:
    """Exact top-10 rows by inner product, per query."""
    scores = queries @ index_vectors.T
    return [list(row) for row in np.argsort(-scores, axis=1, kind="stable")[:, :10]]


def overlap(reference: list[list[int]], candidate: list[list[int]]) -> float:
    """Mean share of the reference top-10 found in the candidate top-10."""
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(reference, candidate, strict=True)]))


def run(model: Path, photos: PhotoSet, dtypes: list[str], catalog: int, queries: int, repeats: int) -> Report:
    """Per dtype: p50 of one text / one image query encode, batch image throughput, and top-10 overlap with
    float32 over a catalog of real photos (queries: product-style texts and other photos)."""
    report = Report(
        "encoder_precision",
        f"Encoder precision on this CPU ({model.name})",
        [
            "dtype",
            "text_p50_ms",
            "image_p50_ms",
            "batch_images_per_s",
            "text_top10_overlap",
            "image_top10_overlap",
            "min_cosine",
            "kept",
        ],
        settings={"model": str(model), "catalog": catalog, "queries": queries, "photos": photos.source},
    )
    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in photos.images[: catalog + queries]]
    texts = text_queries(queries, seed=3)
    reference: dict[str, np.ndarray] = {}
    for dtype in dtypes:
        encoder = Encoder.load(str(model), device="cpu", dtype=dtype)
        pixels = encoder.preprocess(images)
        started = time.perf_counter()
        docs = np.concatenate([encoder.encode_pixels(pixels[i : i + 32]) for i in range(0, catalog, 32)])
        batch_rate = catalog / (time.perf_counter() - started)
        image_queries = encoder.encode_pixels(pixels[catalog:])
        text_vectors = encoder.encode_text(texts)
        text_ms = percentiles(time_each(lambda t, e=encoder: e.encode_text([t]), texts[:repeats]))["p50_ms"]
        image_ms = percentiles(time_each(lambda i, e=encoder, p=pixels: e.encode_pixels(p[i : i + 1]), range(repeats)))[
            "p50_ms"
        ]
        row = {
            "dtype": dtype,
            "text_p50_ms": text_ms,
            "image_p50_ms": image_ms,
            "batch_images_per_s": round(batch_rate, 1),
        }
        if dtype == "float32":
            reference = {"docs": docs, "images": image_queries, "texts": text_vectors}
            row.update(text_top10_overlap=1.0, image_top10_overlap=1.0, min_cosine=1.0, kept=True)
        elif reference:
            # Serving case: queries in this precision against an index built in float32 (e.g. on a GPU).
            text_overlap = overlap(top10(reference["docs"], reference["texts"]), top10(reference["docs"], text_vectors))
            image_overlap = overlap(
                top10(reference["docs"], reference["images"]), top10(reference["docs"], image_queries)
            )
            cosines = np.concatenate(
                [
                    np.sum(reference["docs"] * docs, axis=1),
                    np.sum(reference["texts"] * text_vectors, axis=1),
                ]
            )
            kept = min(text_overlap, image_overlap) >= MIN_OVERLAP
            row.update(
                text_top10_overlap=round(text_overlap, 4),
                image_top10_overlap=round(image_overlap, 4),
                min_cosine=round(float(cosines.min()), 4),
                kept=kept,
            )
        report.add(**row)
    report.notes.append(
        f"Overlap: top-10 of {queries} text and {queries} photo queries in that precision vs float32, against "
        f"{catalog} photos encoded in float32; 'kept' = both ≥ {MIN_OVERLAP}."
    )
    return report
