"""ONNX Runtime against PyTorch eager on the CPU, in one process: query latency before and after, and the thread
setting (threads × busy-waiting) that the default in search.encoding.threads comes from."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from benchmarks.common import Report, interleaved, percentiles
from benchmarks.fixtures import PhotoSet, text_queries
from search.catalog.images import load_image
from search.encoding.encoder import Encoder
from search.encoding.onnx_runtime import OnnxTowers
from search.engine import SearchEngine

logger = logging.getLogger(__name__)

K = 24
TEXT = "black leather boots for men"
TARGETS = {"text": 0.4, "image": 0.65, "image + text": 0.6}


def queries(engine: SearchEngine, eager: Encoder, photos: PhotoSet, repeats: int) -> Report:
    """End-to-end queries through the engine on its runtime (after) against PyTorch eager encoding the same
    query alone (before): the ratio the targets are set on."""
    report = Report(
        "runtime_queries",
        f"Queries: engine on {engine.encoder.runtime} end to end vs PyTorch eager encode alone, "
        f"{engine.num_products:,} products, k={K}",
        ["query", "eager_encode_p50_ms", "engine_p50_ms", "engine_p95_ms", "ratio", "target_ratio", "met"],
        settings={"runtime": engine.encoder.runtime, "torch_threads": torch.get_num_threads(), "repeats": repeats},
    )
    # Distinct texts and photos for every call, so no query is answered from a cache (photos are cycled when
    # there are fewer than 2 × (repeats + 1); the quick run has 16).
    texts = text_queries(2 * repeats + 2, seed=7)
    composed = text_queries(repeats + 1, seed=8)
    images = [photos.images[i % len(photos.images)] for i in range(2 * repeats + 2)]
    decoded = [load_image(data) for data in images]
    samples = interleaved(
        {
            "eager text": lambda i: eager.encode_text([texts[i]]),
            "text": lambda i: engine.search_text(texts[repeats + 1 + i], K),
            "eager image": lambda i: eager.encode_images([decoded[i]]),
            "image": lambda i: engine.search_image(images[i], K),
            "eager image + text": lambda i: (
                eager.encode_images([decoded[repeats + 1 + i]]),
                eager.encode_text([composed[i]]),
            ),
            "image + text": lambda i: engine.search_composed(images[repeats + 1 + i], composed[i], 0.5, K),
        },
        repeats,
        warmup=1,
    )
    for kind, target in TARGETS.items():
        before = percentiles(samples[f"eager {kind}"])["p50_ms"]
        after = percentiles(samples[kind])
        ratio = after["p50_ms"] / before
        report.add(
            query=kind,
            eager_encode_p50_ms=before,
            engine_p50_ms=after["p50_ms"],
            engine_p95_ms=after["p95_ms"],
            ratio=round(ratio, 3),
            target_ratio=target,
            met=ratio <= target,
        )
    report.notes.append(
        "eager: PyTorch float32 eager encoding of the query alone (image: preprocess + encode of the decoded photo; "
        "image + text: both). engine: SearchEngine end to end (decode, encode, search, results), distinct texts."
    )
    return report


def threads(eager: Encoder, export_towers: Callable[[int, bool], OnnxTowers], repeats: int) -> Report:
    """Batch-1 text and image encode per thread setting, interleaved: ONNX Runtime with 1 or 2 threads, idle
    workers busy-waiting or not, and PyTorch eager with 1 or 2 threads."""
    report = Report(
        "runtime_threads",
        "Thread setting: batch-1 encode p50 per runtime, threads and busy-waiting (interleaved)",
        ["runtime", "threads", "spinning", "text_p50_ms", "image_p50_ms", "image_p95_ms"],
    )
    tokens = {name: tensor.numpy() for name, tensor in eager.tokenize([TEXT]).items()}
    blank = Image.new("RGB", (60, 80), "white")
    pixels = np.random.default_rng(0).standard_normal((1, *eager.preprocess([blank]).shape[1:]), np.float32)
    settings = [(count, spin) for count in (1, 2) for spin in (False, True)]
    towers = {setting: export_towers(*setting) for setting in settings}
    calls: dict[str, Callable[..., object]] = {}
    for (count, spin), tower in towers.items():
        calls[f"onnx {count} {spin} text"] = lambda _, t=tower: t.text_features(tokens)
        calls[f"onnx {count} {spin} image"] = lambda _, t=tower: t.image_features(pixels)
    for count in (1, 2):
        calls[f"torch {count} False text"] = lambda _, c=count: _with_torch_threads(c, eager.encode_text, [TEXT])
        calls[f"torch {count} False image"] = lambda _, c=count: _with_torch_threads(c, eager.encode_pixels, pixels)
    samples = interleaved(calls, repeats, warmup=1)
    for runtime, count, spin in [*(("onnx", c, s) for c, s in settings), ("torch", 1, False), ("torch", 2, False)]:
        key = f"{runtime} {count} {spin}"
        image = percentiles(samples[f"{key} image"])
        report.add(
            runtime=runtime,
            threads=count,
            spinning="yes" if spin else "no",
            text_p50_ms=percentiles(samples[f"{key} text"])["p50_ms"],
            image_p50_ms=image["p50_ms"],
            image_p95_ms=image["p95_ms"],
        )
    return report


def _with_torch_threads(count: int, call: Callable, argument: object) -> object:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        return call(argument)
    finally:
        torch.set_num_threads(before)
