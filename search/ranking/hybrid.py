"""Hybrid keyword + semantic ranking: both scores put on [0, 1] over one candidate set, then mixed convexly,
so a weight means what it says (raw BM25 and cosine scores live on unrelated scales)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.ranking.index import RowSelector, VectorIndex
from search.ranking.keyword import KeywordIndex, top_rows

# Defaults (docs/EVALUATION.md "Choosing the defaults"): meaning 0.3, exact words 0.7. In every run of a CLIP
# trained here on real product photos (3 runs, 6 and 40 epochs), 0.3 stayed within 0.002 nDCG@10 of the best on
# every text protocol and beat 0.5 on composed queries, while 0.5 fell up to 0.2 below keyword once the model was
# trained longer; a real fashion CLIP is to be checked the same way (search.evaluate's recommended weight).
DEFAULT_SEMANTIC_WEIGHT = 0.3
DEFAULT_IMAGE_WEIGHT = 0.5
FUSION_METHODS = ("minmax", "rrf")
DEFAULT_FUSION = "minmax"
# Candidates taken from each side before fusing; the top-k of the fused score is exact over their union.
CANDIDATES = 100
# The usual reciprocal rank fusion constant (Cormack et al., 2009).
RRF_K = 60


def keyword_share(semantic_weight: float, image_weight: float = 0.0) -> float:
    """Weight of the keyword score in the final mix: the non-semantic part of the text part of the query."""
    return (1.0 - image_weight) * (1.0 - semantic_weight)


def normalise_semantic(scores: np.ndarray) -> np.ndarray:
    """Min–max over the candidates: cosines have no meaningful zero; equal scores carry no signal (all 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0 or scores.max() == scores.min():
        return np.zeros_like(scores)
    return (scores - scores.min()) / (scores.max() - scores.min())


def normalise_keyword(scores: np.ndarray) -> np.ndarray:
    """Divided by the best candidate's score: BM25 is 0 exactly when no query word occurs, and stays 0."""
    scores = np.asarray(scores, dtype=np.float64)
    best = scores.max(initial=0.0)
    return scores / best if best > 0 else np.zeros_like(scores)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1 + the number of strictly better candidates: equal scores share a rank, so ties never cost a place."""
    scores = np.asarray(scores, dtype=np.float64)
    descending = np.sort(-scores)
    return 1.0 + np.searchsorted(descending, -scores, side="left")


def fuse(semantic: np.ndarray, keyword: np.ndarray, keyword_weight: float, method: str = DEFAULT_FUSION) -> np.ndarray:
    """Fused score of each candidate: (1−w)·semantic + w·keyword after normalisation ("minmax"), or the same
    weights on reciprocal ranks ("rrf", scaled so 1 is the best possible). Non-decreasing in each component."""
    if method == "minmax":
        return (1.0 - keyword_weight) * normalise_semantic(semantic) + keyword_weight * normalise_keyword(keyword)
    if method == "rrf":
        keyword_part = np.where(np.asarray(keyword) > 0, 1.0 / (RRF_K + ranks(keyword)), 0.0)
        semantic_part = 1.0 / (RRF_K + ranks(semantic))
        return (RRF_K + 1) * ((1.0 - keyword_weight) * semantic_part + keyword_weight * keyword_part)
    raise ValueError(f"Unknown fusion method '{method}'; choose one of {', '.join(FUSION_METHODS)}.")


@dataclass(frozen=True)
class KeywordSide:
    """A query's keyword score of every row and, for a read query (search.understanding), each row's tier: rows
    of a higher tier rank before those of a lower one whatever their scores (search.ranking.matching.Match)."""

    scores: np.ndarray
    tiers: np.ndarray | None = None

    def order(self) -> np.ndarray:
        """The key keyword candidates are chosen by: higher tiers first, then by score."""
        if self.tiers is None:
            return self.scores
        return self.scores + self.tiers * (1.0 + float(self.scores.max(initial=0.0)))


@dataclass(frozen=True)
class Candidates:
    """One query's candidate rows with both raw scores (cosine and keyword) and, for a read query, their tiers."""

    rows: np.ndarray
    semantic: np.ndarray
    keyword: np.ndarray
    tiers: np.ndarray | None = None

    def rank(self, keyword_weight: float, k: int, method: str = DEFAULT_FUSION) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (fused scores, rows), best first; ties go to the semantically closer product, then row order.
        With tiers and a keyword share, higher tiers come first."""
        fused = fuse(self.semantic, self.keyword, keyword_weight, method)
        keys = [self.rows, -self.semantic, -fused]
        if self.tiers is not None and keyword_weight > 0.0:
            keys.append(-self.tiers)
        order = np.lexsort(keys)[:k]
        return fused[order], self.rows[order]


class HybridSearcher:
    """Gathers candidates from the FAISS index and the keyword index for batches of queries.

    Candidates = the dense top-`depth` ∪ the keyword top-`depth` among the allowed rows, each scored exactly
    on both sides, so every weight ranks the same set and weight 1 (or 0) reproduces the dense (or keyword) top-k.
    """

    def __init__(
        self, index: VectorIndex, keyword: KeywordIndex, vectors: np.ndarray | None = None, depth: int = CANDIDATES
    ) -> None:
        if len(keyword) != len(index):
            raise ValueError(f"The keyword index has {len(keyword)} products but the vector index {len(index)}.")
        self.index = index
        self.keyword = keyword
        self.depth = depth
        self._vectors = vectors

    def candidates(
        self,
        queries: np.ndarray,
        texts: Sequence[str],
        selector: RowSelector | None = None,
        exclude: Sequence[int | None] | None = None,
        depth: int | None = None,
        sides: Sequence[KeywordSide] | None = None,
    ) -> list[Candidates]:
        """Candidates for each (query vector, query text) pair; `exclude` drops one row per query (e.g. the
        product whose photo is the query); `sides` gives each query's keyword side where the caller computed it
        (a read query's), else it is the BM25 score of the text."""
        depth = max(1, depth or self.depth)
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(len(texts), -1)
        exclude = list(exclude) if exclude is not None else [None] * len(texts)
        sides = list(sides) if sides is not None else [KeywordSide(self.keyword.scores(text)) for text in texts]
        allowed = selector.allowed if selector is not None else None
        dense_rows = self.dense_rows(queries, depth + 1, selector)
        result = []
        for query, dense, skip, side in zip(queries, dense_rows, exclude, sides, strict=True):
            _, keyword_rows = top_rows(side.order(), depth + 1, allowed)
            rows = np.union1d(dense, keyword_rows)
            if skip is not None:
                rows = rows[rows != skip]
            semantic = self.vectors(rows) @ query
            missing = ~self.index.has_vector(rows)
            if missing.any():  # no vector, no meaning score: rank like the least similar candidate
                semantic[missing] = semantic[~missing].min() if not missing.all() else 0.0
            tiers = side.tiers[rows] if side.tiers is not None else None
            keyword = side.scores[rows].astype(np.float64)
            result.append(Candidates(rows, semantic.astype(np.float64), keyword, tiers))
        return result

    def dense_rows(self, queries: np.ndarray, depth: int, selector: RowSelector | None) -> list[np.ndarray]:
        """Top-`depth` allowed rows per query (batched, complete within the filter: see VectorIndex.top_k)."""
        return [ranking.rows for ranking in self.index.top_k(queries, depth, selector)]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Stored product vectors of the rows (from a given matrix when the caller holds one)."""
        if self._vectors is not None:
            return self._vectors[rows]
        return self.index.vectors(rows)
