"""Per-query latency through SearchEngine (what a visitor waits for), and where the time goes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict

import faiss
import numpy as np

from benchmarks.common import Report, percentiles, time_each
from benchmarks.fixtures import PhotoSet, large_photo, text_queries
from search.catalog.images import load_image
from search.engine import SearchEngine
from search.ranking.filters import normalise_filters

logger = logging.getLogger(__name__)

K = 24  # results per page in the app
NARROW_FILTER = {"articleType": "Boots", "gender": "Men"}


def run(engine: SearchEngine, photos: PhotoSet, repeats: int, name: str = "query_latency") -> Report:
    """Latency of every query kind at k=24, p50/p95 over `repeats` distinct queries each.

    Kinds are interleaved query by query, so every kind sees the same neighbours on a shared machine.
    """
    report = Report(
        name,
        f"Query latency, {len(engine.products):,} products, k={K}, encoder {engine.encoder.dtype}",
        ["query", "p50_ms", "p95_ms", "n", "target_p50_ms", "met"],
        settings={
            "products": len(engine.products),
            "index": asdict(engine.manifest.index),
            "encoder_dtype": engine.encoder.dtype,
            "k": K,
            "repeats": repeats,
            "photos": f"{photos.size} {photos.source}",
        },
    )
    pool = text_queries(4 * repeats, seed=1)
    plain, filtered, narrow, composed = (pool[i * repeats : (i + 1) * repeats] for i in range(4))
    # A photo of its own for every photo query, so none is answered by the image-vector cache (photos are cycled
    # when there are fewer than 3 × repeats).
    photo_pool = [photos.images[i % len(photos.images)] for i in range(3 * repeats)]
    images, composed_images = photo_pool[:repeats], photo_pool[repeats : 2 * repeats]
    uploads = [large_photo(photo) for photo in photo_pool[2 * repeats :]]
    ids = engine.products.ids[:: max(1, len(engine.products) // repeats)]
    kinds: list[tuple[str, float | None, Callable[[int], object]]] = [
        ("text", 15, lambda i: engine.search_text(plain[i], K)),
        ("text, repeated (cache)", 5, lambda i: engine.search_text(plain[i], K)),
        ("text, filter gender=Men", 15, lambda i: engine.search_text(filtered[i], K, {"gender": "Men"})),
        ("text, filter Boots+Men", 15, lambda i: engine.search_text(narrow[i], K, NARROW_FILTER)),
        (f"image ({photos.size} JPEG)", 50, lambda i: engine.search_image(images[i], K)),
        ("image + text", 60, lambda i: engine.search_composed(composed_images[i], composed[i], 0.5, K)),
        ("more like this", None, lambda i: engine.more_like_this(int(ids[i % len(ids)]), K)),
        ("image (1200×1600 upload)", None, lambda i: engine.search_image(uploads[i], K)),
    ]
    for filters in (None, {"gender": "Men"}, NARROW_FILTER):  # warm-up with a query that is never measured
        engine.search_text("warm up query", K, filters)
    engine.search_composed(images[0], "warm up query", 0.5, K)
    engine.clear_caches()
    samples: dict[str, list[float]] = {kind: [] for kind, _, _ in kinds}
    for i in range(repeats):
        for kind, _, call in kinds:
            started = time.perf_counter()
            call(i)
            samples[kind].append((time.perf_counter() - started) * 1000.0)
    for kind, target, _ in kinds:
        stats = percentiles(samples[kind])
        met = None if target is None else stats["p50_ms"] <= target
        report.add(query=kind, **stats, target_p50_ms=target, met=met)
    report.notes.append(
        "Text queries and photos are distinct (no cache hits) except in the 'repeated' row, which repeats the "
        "query of the 'text' row just before it."
    )
    return report


def stages(engine: SearchEngine, photos: PhotoSet, repeats: int) -> Report:
    """The parts of a query timed on their own: what bounds each query kind."""
    report = Report(
        "query_stages",
        "Query stages (each timed alone)",
        ["stage", "p50_ms", "p95_ms", "n"],
        settings={"encoder_dtype": engine.encoder.dtype, "k": K},
    )
    texts = text_queries(repeats, seed=2)
    encoder, index = engine.encoder, engine.index
    decoded = [load_image(data) for data in photos.images[:repeats]]
    pixels = encoder.preprocess(decoded[:1])
    vectors = encoder.encode_text(texts[:8])
    selector = engine.filters.selector(normalise_filters({"gender": "Men"}))
    narrow = engine.filters.selector(normalise_filters(NARROW_FILTER))
    if selector is None or narrow is None:
        raise RuntimeError("The benchmark's filters must constrain the catalog.")
    rows = index.search(vectors[0], K)[1][0]

    def add(name: str, samples: list[float]) -> None:
        report.add(stage=name, **percentiles(samples))

    add("tokenize", time_each(encoder.tokenize, [[text] for text in texts]))
    add("text encode (1 query)", time_each(encoder.encode_text, [[text] for text in texts]))
    add(f"image decode ({photos.size} JPEG)", time_each(load_image, photos.images[:repeats]))
    add(f"image preprocess ({photos.size})", time_each(lambda image: encoder.preprocess([image]), decoded))
    add("image encode (1 image)", time_each(encoder.encode_pixels, [pixels] * repeats))
    add("index search, no filter", time_each(lambda v: index.search(v, K), [vectors[i % 8] for i in range(repeats)]))
    add(
        f"index search, filter gender=Men ({selector.count:,} rows)",
        time_each(lambda v: index.search(v, K, selector.selector), [vectors[i % 8] for i in range(repeats)]),
    )
    add(
        f"index search, filter Boots+Men ({narrow.count:,} rows)",
        time_each(lambda v: index.search(v, K, narrow.selector), [vectors[i % 8] for i in range(repeats)]),
    )
    queries = [vectors[i % 8] for i in range(repeats)]
    default_threads = faiss.omp_get_max_threads()
    by_threads: dict[int, list[float]] = {default_threads: [], 1: []}
    for _ in range(3):  # interleaved, so both settings see the same neighbours on a shared machine
        for threads in by_threads:
            faiss.omp_set_num_threads(threads)
            by_threads[threads] += time_each(lambda v: index.search(v, K), queries)
    faiss.omp_set_num_threads(default_threads)
    for threads, samples in by_threads.items():
        add(f"index search, no filter, FAISS {threads} thread(s), interleaved", samples)
    add(
        f"result objects ({K})",
        time_each(lambda r: engine.ranker.results(r, np.zeros(len(r))), [rows] * repeats),
    )
    frame = engine.products.frame
    add(
        f"{K} rows via frame.iloc (how ProductTable.metadata read rows before)",
        time_each(lambda r: [frame.iloc[int(row)].to_dict() for row in r], [rows] * repeats),
    )
    return report
