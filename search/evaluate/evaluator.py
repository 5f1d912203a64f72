"""Evaluate a bundle: dense, keyword and hybrid search on catalog protocols (KAGL-compatible), plus latency.

Quality is measured with batched query encoding and batched FAISS search through the same candidate and fusion
code the engine uses; latency is measured separately through the engine's public calls, one query at a time.
For a given bundle and seed every quality number is deterministic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from search.catalog.images import decode_image
from search.catalog.schema import product_text
from search.encoding.vectors import mix, mix_label
from search.engine import SearchEngine
from search.errors import CatalogError
from search.evaluate.metrics import DEPTH, mean_metrics, query_metrics
from search.evaluate.protocols import COMPOSED, IMAGE, TEXT, JudgedQuery, Protocol, build_protocols, protocol_names
from search.evaluate.report import Report, machine_info, recommend, write_report
from search.ranking.hybrid import FUSION_METHODS, Candidates, HybridSearcher, keyword_share
from search.ranking.index import IndexSpec, Ranking, RowSelector, VectorIndex

logger = logging.getLogger("search.evaluate")

DEFAULT_SEMANTIC_WEIGHTS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
DEFAULT_IMAGE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
DEFAULT_DOC_IMAGE_WEIGHTS = (1.0, 0.9)  # image only, and Marqo's normalise(0.9·image + 0.1·text)


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
class Documents:
    """One document representation: its index and vectors (the bundle's own, or derived from image + text)."""

    label: str
    image_weight: float
    index: VectorIndex
    vectors: np.ndarray | None = None


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
            images = [self._photo(row) for row in batch]
            self._image_vectors.update(zip(batch, self.engine.encoder.encode_images(images), strict=True))
        return np.stack([self._image_vectors[int(row)] for row in rows])

    def documents(self) -> list[Documents]:
        """The bundle's representation, plus image/text mixes derivable from it (only from image-only bundles)."""
        built = self.engine.manifest.index.doc_image_weight
        stored = self.engine.index.vectors(np.arange(len(self.engine.index)))
        result = [Documents(mix_label(built), built, self.engine.index, stored)]
        others = [w for w in self.config.doc_image_weights if w != built]
        if not others:
            return result
        if built != 1.0:
            self.report.notes.append(
                f"The bundle stores {mix_label(built)} vectors; other document representations need an image-only "
                "bundle (build with --doc-image-weight 1) and were skipped."
            )
            return result
        texts = [product_text(record) for record in self.engine.products.frame.to_dict("records")]
        text = self.encode_texts(texts, "Encoding product texts")
        for weight in others:
            vectors = mix(stored, text, weight)
            result.append(Documents(mix_label(weight), weight, VectorIndex.build(vectors, IndexSpec("flat")), vectors))
        return result

    # --- rankings -------------------------------------------------------------------------------------------
    def dense(self, docs: Documents, queries: np.ndarray, exclude: Sequence[int | None]) -> list[Ranking]:
        rankings = docs.index.top_k(queries, DEPTH + 1, self.selector)
        return [trim(ranking, skip) for ranking, skip in zip(rankings, exclude, strict=True)]

    def keyword(self, texts: Sequence[str], exclude: Sequence[int | None]) -> list[Ranking]:
        allowed = self.selector.allowed if self.selector else None
        rankings = []
        for text, skip in zip(texts, exclude, strict=True):
            scores, rows = self.engine.ranker.keyword_index().search(text, DEPTH + 1, allowed)
            rankings.append(trim(Ranking(scores=scores, rows=rows), skip))
        return rankings

    def candidates(self, docs: Documents, queries: np.ndarray, texts: Sequence[str]) -> list[Candidates]:
        searcher = HybridSearcher(docs.index, self.engine.ranker.keyword_index(), docs.vectors)
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
            image_vectors = self.encode_product_images(image_rows(queries))
            for docs in documents:
                rankings = self.dense(docs, image_vectors, exclude)
                self.score(protocol, queries, docs.label, "dense", rankings, None, image_weight=1.0)
        elif protocol.kind == COMPOSED:
            image_vectors = self.encode_product_images(image_rows(queries))
            text_vectors = self.encode_texts(texts, f"Encoding {protocol.name} texts")
            for docs in documents:
                for weight in self.config.image_weights:
                    composed = mix(image_vectors, text_vectors, weight)
                    rankings = self.dense(docs, composed, exclude)
                    self.score(protocol, queries, docs.label, "dense", rankings, 1.0, image_weight=weight)
                    if has_keyword and weight < 1.0:
                        self.hybrid(protocol, queries, docs, composed, texts, exclude, image_weight=weight)

    def hybrid(
        self,
        protocol: Protocol,
        queries: list[JudgedQuery],
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
                    rankings.append(trim(Ranking(scores=scores, rows=rows), skip))
                self.score(protocol, queries, docs.label, "hybrid", rankings, semantic_weight, image_weight, fusion)

    def score(
        self,
        protocol: Protocol,
        queries: list[JudgedQuery],
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

    def _photo(self, row: int) -> Image.Image:
        """A query product's stored photo, decoded as an uploaded one would be."""
        data = self.engine.products.image_bytes(row)
        if data is None:
            raise CatalogError(f"Row {row} is the photo of an image query but the catalog has no image for it.")
        return decode_image(data)


def trim(ranking: Ranking, exclude: int | None) -> Ranking:
    """The top DEPTH of a ranking without the query's own product."""
    keep = ranking.rows != exclude if exclude is not None else np.ones(len(ranking.rows), dtype=bool)
    return Ranking(scores=ranking.scores[keep][:DEPTH], rows=ranking.rows[keep][:DEPTH])


def evaluate(engine: SearchEngine, config: EvalConfig) -> Report:
    """Run every requested protocol and the latency sample; returns the report (also written to config.out)."""
    manifest = engine.manifest
    report = Report(
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        bundle={
            "model": manifest.model.id,
            "model_revision": manifest.model.revision,
            "dataset": asdict(manifest.dataset),
            "index": asdict(manifest.index),
            "keyword": asdict(manifest.components.keyword) if manifest.components.keyword else None,
            "created_at": manifest.created_at,
            "code_version": manifest.code_version,
        },
        machine=machine_info(engine.encoder.device),
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
        write_report(report, Path(config.out))
    return report


def image_rows(queries: Sequence[JudgedQuery]) -> list[int]:
    """The rows of the query photos of an image or composed protocol (each of its queries has one)."""
    return [q.image_row for q in queries if q.image_row is not None]
