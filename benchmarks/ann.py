"""Large catalogs: exact vs approximate FAISS indexes on clustered synthetic vectors.

Recall@10 against the exact top-10, single-query p50 latency (how the engine searches), index memory and
build time, for every index type VectorIndex builds and a sweep of its search-time parameter.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from benchmarks.common import Report, percentiles, time_each
from benchmarks.fixtures import clustered_vectors, query_vectors
from search.index import IndexSpec, VectorIndex

logger = logging.getLogger(__name__)

K = 10


@dataclass(frozen=True)
class Candidate:
    """An index spec to build once, and the values of its search-time parameter to sweep."""

    spec: IndexSpec
    sweep_param: str | None = None
    sweep: tuple[int, ...] = ()


def candidates(count: int) -> list[Candidate]:
    """Every index type at its defaults for this catalog size, sweeping the parameter that trades speed for recall."""
    return [
        Candidate(IndexSpec(type="flat")),
        Candidate(IndexSpec.for_catalog(count, "hnsw"), "efSearch", (16, 32, 64, 128, 256)),
        Candidate(IndexSpec.for_catalog(count, "ivfpq"), "nprobe", (8, 16, 32, 64, 128)),
        Candidate(IndexSpec.for_catalog(count, "ivfsq8"), "nprobe", (16, 32, 64, 96, 128)),
    ]


def cached_vectors(work: Path, count: int, dim: int, seed: int) -> np.ndarray:
    """clustered_vectors, saved as .npy on first use: generating a million takes longer than loading them."""
    path = work / f"clustered-{count}x{dim}-seed{seed}.npy"
    if path.is_file():
        return np.load(path)
    started = time.perf_counter()
    vectors = clustered_vectors(count, dim, seed=seed)
    logger.info("Generated %d vectors in %.1fs", count, time.perf_counter() - started)
    work.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def run(count: int, dim: int, queries: int, work: Path, seed: int = 0) -> Report:
    """Build each candidate over `count` clustered vectors and measure it against exact search."""
    report = Report(
        "ann",
        f"Large catalog: {count:,} clustered synthetic {dim}-d vectors, single-query search, k={K}",
        ["index", "params", "recall_at_10", "p50_ms", "p95_ms", "memory_mb", "build_s", "meets_target"],
        settings={"vectors": count, "dim": dim, "queries": queries, "faiss_threads": faiss.omp_get_max_threads()},
    )
    vectors = cached_vectors(work, count, dim, seed)
    probes = query_vectors(queries, count, dim, seed=seed)
    exact: np.ndarray | None = None
    for candidate in candidates(count):
        started = time.perf_counter()
        index = VectorIndex.build(vectors, candidate.spec)
        build_seconds = time.perf_counter() - started
        memory_mb = len(faiss.serialize_index(index.index)) / 2**20
        logger.info("Built %s in %.1fs (%.0f MB)", candidate.spec.type, build_seconds, memory_mb)
        for value in candidate.sweep or (None,):
            if value is not None:
                params = {**index.spec.params, candidate.sweep_param: value}
                index = VectorIndex(index.index, replace(index.spec, params=params))
            found = index.search(probes, K)[1]
            if exact is None:
                exact = found
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(exact, found, strict=True)]))
            # An exact scan of a million vectors takes long enough that 30 queries give a stable median.
            timed = list(probes[:30]) if index.spec.type == "flat" else list(probes)
            stats = percentiles(time_each(lambda q, i=index: i.search(q, K), timed))
            report.add(
                index=candidate.spec.type,
                params=", ".join(f"{key}={val}" for key, val in sorted(index.spec.params.items())) or "exact",
                recall_at_10=round(recall, 4),
                p50_ms=stats["p50_ms"],
                p95_ms=stats["p95_ms"],
                memory_mb=round(memory_mb, 1),
                build_s=round(build_seconds, 1),
                meets_target=recall >= 0.95 and stats["p50_ms"] <= 20,
            )
        del index
    report.notes.append(
        "Target: p50 ≤ 20 ms at recall@10 ≥ 0.95 vs exact. Vectors: benchmarks.fixtures.clustered_vectors "
        "(two-level Gaussian mixture); queries are fresh draws from the same mixture, not stored vectors."
    )
    return report
