"""Evaluate a bundle: dense, keyword and hybrid search on catalog protocols (KAGL-compatible), plus latency.

    python -m search.evaluate --index build/fashion-index --protocol all --out report.json

Quality is measured with batched query encoding and batched FAISS search through the same candidate and fusion
code the engine uses; latency is measured separately through the engine's public calls, one query at a time.
For a given bundle and seed every quality number is deterministic.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from search.catalog import product_text
from search.encoder import normalise
from search.engine import SearchEngine
from search.errors import SearchError
from search.hybrid import DEFAULT_IMAGE_WEIGHT, FUSION_METHODS, Candidates, HybridSearcher, keyword_share
from search.images import decode_image
from search.index import IndexSpec, RowSelector, VectorIndex
from search.metrics import DEPTH, mean_metrics, query_metrics
from search.pipeline import document_vectors
from search.protocols import COMPOSED, IMAGE, TEXT, Protocol, Query, build_protocols, protocol_names

logger = logging.getLogger("search.evaluate")

DEFAULT_SEMANTIC_WEIGHTS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
DEFAULT_IMAGE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
DEFAULT_DOC_IMAGE_WEIGHTS = (1.0, 0.9)  # image only, and Marqo's normalise(0.9·image + 0.1·text)
SELECTION_METRIC = "nDCG@10"
TABLE_COLUMNS = ("R@1", "R@10", "R@50", "P@1", "P@10", "MRR", "mAP@10", "nDCG@10", "AvgRecall", "AvgP")
# FAISS computes batched flat search with BLAS only above this many queries; its default here is far too high.
BATCHED_BLAS_THRESHOLD = 20


@dataclass
class EvalConfig:
    """Everything a run depends on; recorded in the report."""

    index: str
    protocol: str = "all"
    out: Path | None = None
    revision: str | None = None
    limit: int | None = None
    queries: int = 2000
    seed: int = 0
    device: str | None = None
    semantic_weights: tuple[float, ...] = DEFAULT_SEMANTIC_WEIGHTS
    image_weights: tuple[float, ...] = DEFAULT_IMAGE_WEIGHTS
    doc_image_weights: tuple[float, ...] = DEFAULT_DOC_IMAGE_WEIGHTS
    fusions: tuple[str, ...] = FUSION_METHODS
    latency_queries: int = 50
    batch_size: int = 64


@dataclass
class Ranking:
    """One query's ranked rows and their scores (for tie-aware metrics)."""

    rows: np.ndarray
    scores: np.ndarray


@dataclass
class Documents:
    """One document representation: its index and vectors (the bundle's own, or derived from image + text)."""

    label: str
    image_weight: float
    index: VectorIndex
    vectors: np.ndarray | None = None


@dataclass
class Report:
    config: dict[str, Any]
    bundle: dict[str, Any]
    machine: dict[str, Any]
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: list[dict[str, Any]] = field(default_factory=list)
    recommended: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def batched_blas() -> Iterator[None]:
    previous = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = BATCHED_BLAS_THRESHOLD
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = previous


def doc_label(image_weight: float) -> str:
    return "image" if image_weight == 1.0 else f"{image_weight:g}·image+{1 - image_weight:g}·text"


class Evaluator:
    """Runs protocols against one engine; every ranking goes through code shared with the engine."""

    def __init__(self, engine: SearchEngine, config: EvalConfig, report: Report) -> None:
        self.engine = engine
        self.config = config
        self.report = report
        rows = len(engine.products)
        self.limit = min(config.limit or rows, rows)
        self.selector = RowSelector(np.arange(rows) < self.limit) if self.limit < rows else None
        self.frame = engine.products.frame.iloc[: self.limit]
        self._image_vectors: dict[int, np.ndarray] = {}

    # --- encoding -------------------------------------------------------------------------------------------
    def encode_texts(self, texts: Sequence[str], desc: str) -> np.ndarray:
        batches = range(0, len(texts), self.config.batch_size)
        parts = [
            self.engine.encoder.encode_text(list(texts[start : start + self.config.batch_size]))
            for start in tqdm(batches, desc=desc, unit="batch", leave=False)
        ]
        return np.concatenate(parts) if parts else np.empty((0, self.engine.index.dim), np.float32)

    def encode_product_images(self, rows: Sequence[int]) -> np.ndarray:
        """Image vectors of product photos, as a user uploading them would get (cached per row)."""
        todo = sorted({int(row) for row in rows} - set(self._image_vectors))
        for start in tqdm(range(0, len(todo), self.config.batch_size), desc="Encoding query images", leave=False):
            batch = todo[start : start + self.config.batch_size]
            images = [decode_image(self.engine.products.image_bytes(row)) for row in batch]
            self._image_vectors.update(zip(batch, self.engine.encoder.encode_images(images), strict=True))
        return np.stack([self._image_vectors[int(row)] for row in rows])

    def documents(self) -> list[Documents]:
        """The bundle's representation, plus image/text mixes derivable from it (only from image-only bundles)."""
        built = float(self.engine.manifest.index.get("doc_image_weight", 1.0))
        stored = self.engine.index.vectors(np.arange(len(self.engine.index)))
        result = [Documents(doc_label(built), built, self.engine.index, stored)]
        others = [w for w in self.config.doc_image_weights if w != built]
        if not others:
            return result
        if built != 1.0:
            self.report.notes.append(
                f"The bundle stores {doc_label(built)} vectors; other document representations need an image-only "
                "bundle (build with --doc-image-weight 1) and were skipped."
            )
            return result
        texts = [product_text(record) for record in self.engine.products.frame.to_dict("records")]
        text = self.encode_texts(texts, "Encoding product texts")
        for weight in others:
            vectors = document_vectors(stored, text, weight)
            result.append(Documents(doc_label(weight), weight, VectorIndex.build(vectors, IndexSpec("flat")), vectors))
        return result

    # --- rankings -------------------------------------------------------------------------------------------
    def dense(self, docs: Documents, queries: np.ndarray, exclude: Sequence[int | None]) -> list[Ranking]:
        with batched_blas():
            scores, rows = docs.index.search(queries, DEPTH + 1, self.selector.selector if self.selector else None)
        return [_trim(Ranking(r[r >= 0], s[r >= 0]), skip) for s, r, skip in zip(scores, rows, exclude, strict=True)]

    def keyword(self, texts: Sequence[str], exclude: Sequence[int | None]) -> list[Ranking]:
        allowed = self.selector.allowed if self.selector else None
        rankings = []
        for text, skip in zip(texts, exclude, strict=True):
            scores, rows = self.engine.keyword.search(text, DEPTH + 1, allowed)
            rankings.append(_trim(Ranking(rows, scores), skip))
        return rankings

    def candidates(self, docs: Documents, queries: np.ndarray, texts: Sequence[str]) -> list[Candidates]:
        searcher = HybridSearcher(docs.index, self.engine.keyword, docs.vectors)
        with batched_blas():
            return searcher.candidates(queries, texts, self.selector)

    # --- protocols ------------------------------------------------------------------------------------------
    def run(self, protocol: Protocol, documents: list[Documents]) -> None:
        queries = [q for q in protocol.queries if q.image_row is None or self.engine.products.image_bytes(q.image_row)]
        protocol.skipped += len(protocol.queries) - len(queries)
        protocol.queries = queries
        self.report.protocols[protocol.name] = {
            "kind": protocol.kind,
            "description": protocol.description,
            "queries": len(queries),
            "skipped": protocol.skipped,
            "mean_relevant": float(np.mean([len(q.relevant) for q in queries])) if queries else 0.0,
        }
        if not queries:
            self.report.notes.append(f"Protocol {protocol.name} has no usable query on this catalog.")
            return
        logger.info("Protocol %s: %d queries", protocol.name, len(queries))
        texts = [q.text or "" for q in queries]
        exclude = [q.image_row for q in queries]
        has_keyword = self.engine.keyword is not None
        if protocol.kind == TEXT:
            text_vectors = self.encode_texts(texts, f"Encoding {protocol.name} queries")
            if has_keyword:
                self.score(protocol, queries, "-", "keyword", self.keyword(texts, exclude), semantic_weight=0.0)
            for docs in documents:
                self.score(protocol, queries, docs.label, "dense", self.dense(docs, text_vectors, exclude), 1.0)
                if has_keyword:
                    self.hybrid(protocol, queries, docs, text_vectors, texts, exclude, image_weight=0.0)
        elif protocol.kind == IMAGE:
            image_vectors = self.encode_product_images(exclude)
            for docs in documents:
                rankings = self.dense(docs, image_vectors, exclude)
                self.score(protocol, queries, docs.label, "dense", rankings, None, image_weight=1.0)
        elif protocol.kind == COMPOSED:
            image_vectors = self.encode_product_images(exclude)
            text_vectors = self.encode_texts(texts, f"Encoding {protocol.name} texts")
            for docs in documents:
                for weight in self.config.image_weights:
                    composed = normalise(weight * image_vectors + (1.0 - weight) * text_vectors)
                    rankings = self.dense(docs, composed, exclude)
                    self.score(protocol, queries, docs.label, "dense", rankings, 1.0, image_weight=weight)
                    if has_keyword and weight < 1.0:
                        self.hybrid(protocol, queries, docs, composed, texts, exclude, image_weight=weight)

    def hybrid(
        self,
        protocol: Protocol,
        queries: list[Query],
        docs: Documents,
        vectors: np.ndarray,
        texts: Sequence[str],
        exclude: Sequence[int | None],
        image_weight: float,
    ) -> None:
        candidates = self.candidates(docs, vectors, texts)
        for fusion in self.config.fusions:
            for semantic_weight in self.config.semantic_weights:
                if semantic_weight in (0.0, 1.0):
                    continue  # the pure searches, scored above
                share = keyword_share(semantic_weight, image_weight)
                rankings = []
                for candidate, skip in zip(candidates, exclude, strict=True):
                    scores, rows = candidate.rank(share, DEPTH + 1, fusion)
                    rankings.append(_trim(Ranking(rows, scores), skip))
                self.score(protocol, queries, docs.label, "hybrid", rankings, semantic_weight, image_weight, fusion)

    def score(
        self,
        protocol: Protocol,
        queries: list[Query],
        doc: str,
        method: str,
        rankings: list[Ranking],
        semantic_weight: float | None,
        image_weight: float | None = None,
        fusion: str | None = None,
    ) -> None:
        per_query = [
            query_metrics(ranking.rows.tolist(), query.relevant, ranking.scores.tolist())
            for query, ranking in zip(queries, rankings, strict=True)
        ]
        self.report.results.append(
            {
                "protocol": protocol.name,
                "kind": protocol.kind,
                "doc": doc,
                "method": method,
                "fusion": fusion,
                "semantic_weight": semantic_weight,
                "image_weight": image_weight,
                "queries": len(queries),
                "metrics": mean_metrics(per_query),
            }
        )

    # --- latency --------------------------------------------------------------------------------------------
    def latency(self, protocols: list[Protocol]) -> None:
        """p50/p95 of the engine's own calls, one query at a time; each method gets different queries so no
        call is answered from the text cache."""
        count = self.config.latency_queries
        if count <= 0:
            return
        engine = self.engine
        text_queries = [q.text for p in protocols if p.kind == TEXT for q in p.queries]
        image_queries = [q.image_row for p in protocols if p.kind == IMAGE for q in p.queries]
        composed = [q for p in protocols if p.kind == COMPOSED for q in p.queries]
        calls: list[tuple[str, list[Any], Any]] = [("text dense", text_queries, lambda t: engine.search_text(t))]
        if engine.keyword is not None:
            calls += [
                ("text keyword", text_queries, lambda t: engine.search_keyword(t)),
                ("text hybrid 0.5", text_queries, lambda t: engine.search_text(t, semantic_weight=0.5)),
            ]
        calls.append(("image", image_queries, lambda row: engine.search_image(self._photo(row))))
        calls.append(("composed", composed, lambda q: engine.search_composed(self._photo(q.image_row), q.text)))
        for number, (name, pool, call) in enumerate(calls):
            start = number * count if name.startswith("text") and len(pool) >= (number + 1) * count else 0
            sample = pool[start : start + count]
            if not sample:
                continue
            timings = []
            for item in sample:
                began = time.perf_counter()
                call(item)
                timings.append((time.perf_counter() - began) * 1000.0)
            self.report.latency_ms.append(
                {
                    "call": name,
                    "queries": len(timings),
                    "p50": float(np.percentile(timings, 50)),
                    "p95": float(np.percentile(timings, 95)),
                }
            )

    def _photo(self, row: int) -> Any:
        return decode_image(self.engine.products.image_bytes(row))


def _trim(ranking: Ranking, exclude: int | None) -> Ranking:
    """The top DEPTH of a ranking without the query's own product."""
    keep = ranking.rows != exclude if exclude is not None else np.ones(len(ranking.rows), dtype=bool)
    return Ranking(ranking.rows[keep][:DEPTH], ranking.scores[keep][:DEPTH])


def recommend(results: list[dict[str, Any]], bundle_doc: str) -> dict[str, Any]:
    """Defaults that maximise the mean nDCG@10 over protocols: document representation (dense, text queries),
    semantic weight and fusion (text queries, the bundle's documents), image weight (composed, dense)."""
    frame = pd.DataFrame(
        [{**{k: v for k, v in r.items() if k != "metrics"}, "score": r["metrics"][SELECTION_METRIC]} for r in results]
    )
    if frame.empty:
        return {}
    frame["fusion"] = frame["fusion"].fillna("-")
    recommended: dict[str, Any] = {"criterion": f"mean {SELECTION_METRIC} over protocols"}
    text = frame[frame.kind == TEXT]
    dense_text = text[text.method == "dense"]
    if dense_text.doc.nunique() > 1:
        recommended["doc"] = dense_text.groupby("doc").score.mean().idxmax()
    own = text[(text.doc == bundle_doc) | (text.method == "keyword")]
    if not own.empty:
        means = own.groupby(["method", "fusion", "semantic_weight"]).score.mean()
        _, fusion, weight = means.idxmax()
        recommended |= {"semantic_weight": float(weight), "fusion": None if fusion == "-" else fusion}
        recommended["semantic_weight_table"] = {f"{m} {f} {w:g}": round(v, 4) for (m, f, w), v in means.items()}
    composed = frame[(frame.kind == COMPOSED) & (frame.method == "dense") & (frame.doc == bundle_doc)]
    if not composed.empty:
        recommended["image_weight"] = float(composed.groupby("image_weight").score.mean().idxmax())
    return recommended


def method_label(result: dict[str, Any]) -> str:
    """A short column name: dense[doc], keyword, α=0.5 (min–max fusion) or rrf α=0.5."""
    if result["method"] == "dense":
        return "dense" if result["doc"] == "image" else f"dense[{result['doc']}]"
    if result["method"] == "keyword":
        return "keyword"
    doc = "" if result["doc"] == "image" else f"[{result['doc']}]"
    return f"{'rrf ' if result['fusion'] == 'rrf' else ''}α={result['semantic_weight']:g}{doc}"


def results_table(results: list[dict[str, Any]], bundle_doc: str = "image", metric: str = SELECTION_METRIC) -> str:
    """Two views: every metric of the pure searches, and one metric of every method on the bundle's documents
    (where hybrid wins); the JSON report holds everything."""
    if not results:
        return "No results."
    detail = pd.DataFrame(
        [
            {"protocol": r["protocol"], "w_img": r["image_weight"], "method": method_label(r), "n": r["queries"]}
            | {name: r["metrics"].get(name, np.nan) for name in TABLE_COLUMNS}
            for r in results
            if r["method"] != "hybrid" and r["image_weight"] in (None, 0.0, 1.0, DEFAULT_IMAGE_WEIGHT)
        ]
    )
    sweep = pd.DataFrame(
        [
            {
                "protocol": r["protocol"] + (f" w_img={r['image_weight']:g}" if r["kind"] == COMPOSED else ""),
                "method": method_label(r),
                metric: r["metrics"][metric],
            }
            for r in results
            if r["doc"] in ("-", bundle_doc)
        ]
    )
    pivot = sweep.pivot_table(index="protocol", columns="method", values=metric, sort=False)
    float_format = lambda v: f"{v:.3f}"  # noqa: E731
    return (
        f"{detail.to_string(index=False, float_format=float_format, na_rep='-')}\n\n"
        f"{metric} of every method (α = semantic weight):\n{pivot.to_string(float_format=float_format, na_rep='-')}"
    )


def machine_info(engine: SearchEngine) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": engine.encoder.device,
        "python": platform.python_version(),
    }


def evaluate(engine: SearchEngine, config: EvalConfig) -> Report:
    """Run every requested protocol and the latency sample; returns the report (also written to config.out)."""
    manifest = engine.manifest
    report = Report(
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        bundle={
            "model": manifest.model.get("id"),
            "model_revision": manifest.model.get("revision"),
            "dataset": manifest.dataset,
            "index": dict(manifest.index),
            "keyword": manifest.components.get("keyword"),
            "created_at": manifest.created_at,
            "code_version": manifest.code_version,
        },
        machine=machine_info(engine),
    )
    evaluator = Evaluator(engine, config, report)
    if engine.keyword is None:
        report.notes.append("The bundle has no keyword index: only dense search was evaluated.")
    names = protocol_names(config.protocol)
    protocols = build_protocols(evaluator.frame, names, config.queries, config.seed)
    documents = evaluator.documents()
    started = time.perf_counter()
    for protocol in protocols:
        evaluator.run(protocol, documents)
    report.notes.append(f"Quality pass took {time.perf_counter() - started:.1f}s.")
    evaluator.latency(protocols)
    report.recommended = recommend(report.results, documents[0].label)
    if config.out:
        Path(config.out).parent.mkdir(parents=True, exist_ok=True)
        Path(config.out).write_text(json.dumps(asdict(report), indent=2, default=_json_default), encoding="utf-8")
    return report


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")


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
    print(results_table(report.results, doc_label(float(engine.manifest.index.get("doc_image_weight", 1.0)))))
    if report.latency_ms:
        print()
        print(pd.DataFrame(report.latency_ms).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print()
    print("Recommended:", json.dumps({k: v for k, v in report.recommended.items() if k != "semantic_weight_table"}))
    for note in report.notes:
        print("Note:", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
