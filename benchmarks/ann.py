"""Large catalogs: exact vs approximate FAISS indexes on clustered synthetic vectors, with and without filters.

Recall@10 against brute force over the same rows (all of them, or those a filter allows), single-query p50/p95
latency through `VectorIndex.top_k` (how the engine searches), index memory and build time, for every index type
VectorIndex builds and a sweep of the parameter that trades speed for recall.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from benchmarks.common import Report, percentiles, time_each
from benchmarks.fixtures import cached_vectors, query_vectors
from search.ranking.index import EXACT_FILTER_MAX_ROWS, FLAT_SCAN_CANDIDATES, IndexSpec, RowSelector, VectorIndex

logger = logging.getLogger(__name__)

K = 10
# Filters as shares of the catalog, like the dataset's labels: one gender (~1/5), one gender and article type
# (~1/40). Rows are drawn at random, independent of the vectors.
FILTERS = {"none": 1.0, "gender (20%)": 0.2, "gender + article type (2.5%)": 0.025}
ALL_TYPES = ("flat", "hnsw", "ivfsq8", "ivfpq")


@dataclass(frozen=True)
class Candidate:
    """An index spec to build once, and the values of its search-time parameter to sweep."""

    spec: IndexSpec
    sweep_param: str | None = None
    sweep: tuple[int, ...] = ()


def candidates(count: int, dim: int, types: tuple[str, ...] = ALL_TYPES) -> list[Candidate]:
    """Each index type at its defaults for this catalog size, sweeping the parameter that trades speed for recall."""
    every = {
        "flat": Candidate(IndexSpec(type="flat")),
        "hnsw": Candidate(IndexSpec.for_catalog(count, "hnsw"), "efSearch", (64, 256)),
        "ivfsq8": Candidate(IndexSpec.for_catalog(count, "ivfsq8"), "nprobe", (16, 64)),
        "ivfpq": Candidate(IndexSpec.for_catalog(count, "ivfpq", dim=dim), "rerank", (10, 50, 100, 200, 400)),
    }
    return [every[name] for name in types]


def filter_masks(count: int, seed: int) -> dict[str, RowSelector | None]:
    rng = np.random.default_rng([seed, 2])
    masks: dict[str, RowSelector | None] = {}
    for name, share in FILTERS.items():
        masks[name] = None if share == 1.0 else RowSelector(rng.random(count) < share)
    return masks


def exact_answers(vectors: np.ndarray, probes: np.ndarray, selector: RowSelector | None) -> np.ndarray:
    """Brute-force top-K rows per probe over the allowed rows (FAISS flat over the subset)."""
    if selector is None:
        return faiss.knn(probes, vectors, K, metric=faiss.METRIC_INNER_PRODUCT)[1]
    rows = np.flatnonzero(selector.allowed)
    return rows[faiss.knn(probes, np.ascontiguousarray(vectors[rows]), K, metric=faiss.METRIC_INNER_PRODUCT)[1]]


def run(count: int, dim: int, queries: int, work: Path, seed: int = 0, types: tuple[str, ...] = ALL_TYPES) -> Report:
    """Build each candidate over `count` clustered vectors and measure it against brute force, per filter."""
    report = Report(
        "ann",
        f"Large catalog: {count:,} clustered synthetic {dim}-d vectors, single-query top-{K}",
        ["index", "params", "filter", "recall_at_10", "p50_ms", "p95_ms", "memory_mb", "disk_mb", "build_s"],
        settings={"vectors": count, "dim": dim, "queries": queries, "faiss_threads": faiss.omp_get_max_threads()},
    )
    vectors = cached_vectors(work, count, dim, seed)
    probes = query_vectors(queries, count, dim, seed=seed)
    masks = filter_masks(count, seed)
    truth = {name: exact_answers(vectors, probes, selector) for name, selector in masks.items()}
    for candidate in candidates(count, dim, types):
        started = time.perf_counter()
        index = VectorIndex.build(vectors, candidate.spec)
        build_seconds = time.perf_counter() - started
        memory_mb = len(faiss.serialize_index(index.index)) / 2**20
        disk_mb = memory_mb + (index.exact.nbytes / 2**20 if index.exact is not None else 0.0)
        logger.info("Built %s in %.1fs (%.0f MB)", candidate.spec.type, build_seconds, memory_mb)
        for value in candidate.sweep or (None,):
            if value is not None and candidate.sweep_param is not None:
                params = {**index.spec.params, candidate.sweep_param: value}
                index = VectorIndex(index.index, replace(index.spec, params=params), index.exact)
            for name, selector in masks.items():
                found = [ranking.rows for ranking in index.top_k(probes, K, selector)]
                recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(truth[name], found, strict=True)]))
                # An exact scan of a million vectors takes long enough that 30 queries give a stable median.
                timed = list(probes[:30]) if index.spec.type == "flat" else list(probes)
                stats = percentiles(time_each(lambda q, i=index, s=selector: i.top_k(q, K, s), timed))
                report.add(
                    index=candidate.spec.type,
                    params=", ".join(f"{key}={val}" for key, val in sorted(index.spec.params.items())) or "exact",
                    filter=name if selector is None else f"{name}: {selector.count:,} rows",
                    recall_at_10=round(recall, 4),
                    p50_ms=stats["p50_ms"],
                    p95_ms=stats["p95_ms"],
                    memory_mb=round(memory_mb, 1),
                    disk_mb=round(disk_mb, 1),
                    build_s=round(build_seconds, 1),
                )
        del index
    report.notes.append(
        f"Recall against brute force over the same rows. Filters matching ≤ {EXACT_FILTER_MAX_ROWS:,} products are "
        "answered by brute force over them for every index type "
        "(search.ranking.index.EXACT_FILTER_MAX_ROWS); broader ones search inside the index. memory_mb: the FAISS "
        "index in RAM; disk_mb adds the exact vectors IVF indexes "
        "re-rank with (memory-mapped: in RAM only as far as the page cache holds them). Vectors: "
        "benchmarks.fixtures.clustered_vectors; queries are fresh draws from the same mixture."
    )
    return report


def flat_codecs(count: int, dim: int, queries: int, work: Path, seed: int = 0) -> Report:
    """The default catalog size (44k): exact fp32 flat against flat fp16 / SQ8 codes and HNSW, to decide whether
    a cheaper scan than fp32 keeps recall@10 ≥ 0.99 (the bar for changing the default)."""
    report = Report(
        "index_44k",
        f"Default-size catalog: {count:,} clustered {dim}-d vectors, single-query search, k={K}",
        ["index", "recall_at_10", "p50_ms", "p95_ms", "memory_mb", "build_s", "default_candidate"],
        settings={"vectors": count, "dim": dim, "queries": queries, "faiss_threads": faiss.omp_get_max_threads()},
    )
    vectors = cached_vectors(work, count, dim, seed)
    probes = query_vectors(queries, count, dim, seed=seed)
    quantizer = faiss.ScalarQuantizer
    built: list[tuple[str, faiss.Index]] = [("flat fp32 (exact)", faiss.IndexFlatIP(dim))]
    built += [
        (f"flat {name}", faiss.IndexScalarQuantizer(dim, codec, faiss.METRIC_INNER_PRODUCT))
        for name, codec in (("fp16", quantizer.QT_fp16), ("SQ8", quantizer.QT_8bit))
    ]
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    built.append(("hnsw M=32", hnsw))
    exact: np.ndarray | None = None
    for name, index in built:
        started = time.perf_counter()
        index.train(vectors)
        index.add(vectors)
        build_seconds = time.perf_counter() - started
        for ef in (64, 128, 256) if name.startswith("hnsw") else (None,):
            if ef is not None:
                faiss.ParameterSpace().set_index_parameter(index, "efSearch", ef)
            found = index.search(probes, K)[1]
            exact = found if exact is None else exact
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(exact, found, strict=True)]))
            stats = percentiles(time_each(lambda q, i=index: i.search(q[None, :], K), list(probes)))
            report.add(
                index=f"{name}, efSearch={ef}" if ef else name,
                recall_at_10=round(recall, 4),
                p50_ms=stats["p50_ms"],
                p95_ms=stats["p95_ms"],
                memory_mb=round(len(faiss.serialize_index(index)) / 2**20, 1),
                build_s=round(build_seconds, 1),
                default_candidate=recall >= 0.99,
            )
    started = time.perf_counter()
    engine_index = VectorIndex.build(vectors, IndexSpec(type="flat"))
    build_seconds = time.perf_counter() - started
    found = np.stack([engine_index.search(probe, K)[1][0] for probe in probes])
    if exact is None:
        raise RuntimeError("No FAISS index was built to take the exact neighbours from.")
    recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(exact, found, strict=True)]))
    stats = percentiles(time_each(lambda q: engine_index.search(q, K), list(probes)))
    report.add(
        index=f"flat fp32 scanned as fp16, {FLAT_SCAN_CANDIDATES} re-ranked exactly (engine)",
        recall_at_10=round(recall, 4),
        p50_ms=stats["p50_ms"],
        p95_ms=stats["p95_ms"],
        memory_mb=round((len(faiss.serialize_index(engine_index.index)) + vectors.nbytes / 2) / 2**20, 1),
        build_s=round(build_seconds, 1),
        default_candidate=recall >= 0.99,
    )
    report.notes.append(
        "The default may change only with recall@10 ≥ 0.99 against the exact fp32 scan. Vectors and queries as in "
        "the 1M table (clustered mixture, fresh query draws). The last row is search.ranking.index.VectorIndex "
        "for a flat index: the fp16 copy is scanned and its candidates are scored with the fp32 vectors."
    )
    return report
