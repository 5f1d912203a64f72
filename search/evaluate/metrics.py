"""Retrieval metrics as small pure functions of one query's ranked list and its set of relevant items.

Conventions (docs/EVALUATION.md):
- binary relevance; results beyond the list count as not relevant;
- a query with no relevant item has no defined Recall, MRR, AP or nDCG: those return NaN and the averages
  skip it (Precision stays defined: 0);
- ties: given `scores`, items with equal scores form a group whose internal order is arbitrary, and each metric
  is its expected value over all orders of every group (McSherry & Najork, ECIR 2008), so a ranker gains nothing
  from lucky tie-breaking; without scores the list order is taken as strict.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RECALL_KS = (1, 5, 10, 50)
PRECISION_KS = (1, 10)
MRR_K = 10  # Marqo's KAGL benchmark ranks the top 10, so its MRR is MRR@10
MAP_K = 10
NDCG_K = 10
DEPTH = max(*RECALL_KS, *PRECISION_KS, MRR_K, MAP_K, NDCG_K)


@dataclass(frozen=True)
class _Hits:
    """One ranked list against its relevant set: P(relevant) per position and the tie groups."""

    expected: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    found: np.ndarray
    relevant: int


def _hits(ranked: Sequence[Hashable], relevant: Collection[Hashable], scores: Sequence[float] | None) -> _Hits:
    hits = np.fromiter((item in relevant for item in ranked), dtype=np.float64, count=len(ranked))
    if scores is not None and len(scores) != len(hits):
        raise ValueError(f"Got {len(scores)} scores for {len(hits)} ranked items.")
    if scores is None or len(hits) == 0:
        starts = np.arange(len(hits))
    else:
        values = np.asarray(scores, dtype=np.float64)
        starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    ends = np.append(starts[1:], len(hits)) if len(hits) else starts
    found = np.add.reduceat(hits, starts) if len(hits) else np.zeros(0)
    expected = np.repeat(found / np.maximum(ends - starts, 1), ends - starts)
    return _Hits(expected, starts, ends, found, len(relevant))


def _precision(hits: _Hits, k: int) -> float:
    return float(hits.expected[:k].sum() / k)


def _recall(hits: _Hits, k: int) -> float:
    return float(hits.expected[:k].sum() / hits.relevant) if hits.relevant else math.nan


def _ndcg(hits: _Hits, k: int) -> float:
    if not hits.relevant:
        return math.nan
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = hits.expected[:k]
    return float((top * discounts[: len(top)]).sum() / discounts[: min(hits.relevant, k)].sum())


def _reciprocal_rank(hits: _Hits, k: int) -> float:
    if not hits.relevant:
        return math.nan
    for start, end, found in zip(hits.starts, hits.ends, hits.found, strict=True):
        if found == 0:
            continue
        start, size, count = int(start), int(end - start), int(found)
        total = math.comb(size, count)
        return sum(
            math.comb(size - offset, count - 1) / total / float(start + offset)
            for offset in range(1, size - count + 2)
            if start + offset <= k
        )
    return 0.0


def _average_precision(hits: _Hits, k: int) -> float:
    if not hits.relevant:
        return math.nan
    total, found_before = 0.0, 0.0
    for start, end, found in zip(hits.starts, hits.ends, hits.found, strict=True):
        if start >= k:
            break
        size = end - start
        pair = found * (found - 1) / (size * (size - 1)) if size > 1 else 0.0
        positions = np.arange(start, min(end, k))
        # E[hit_i · hits at or above i] = p_i·(1 + hits in earlier groups) + (earlier positions in its group)·P(both)
        gains = hits.expected[positions] * (1.0 + found_before) + (positions - start) * pair
        total += float((gains / (positions + 1)).sum())
        found_before += found
    return total / min(hits.relevant, k)


def precision_at_k(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int, scores: Sequence[float] | None = None
) -> float:
    """Share of the first k positions holding a relevant item (positions past the list count as misses)."""
    return _precision(_hits(ranked, relevant, scores), k)


def recall_at_k(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int, scores: Sequence[float] | None = None
) -> float:
    """Share of the relevant items found in the first k positions; NaN without relevant items."""
    return _recall(_hits(ranked, relevant, scores), k)


def ndcg_at_k(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int, scores: Sequence[float] | None = None
) -> float:
    """Binary-gain DCG of the first k positions over the best possible DCG; NaN without relevant items."""
    return _ndcg(_hits(ranked, relevant, scores), k)


def reciprocal_rank(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int = MRR_K, scores: Sequence[float] | None = None
) -> float:
    """1 / rank of the first relevant item within the first k positions (0 if none); NaN without relevant items.

    Inside a tie group of m items holding r relevant ones, the first relevant one is at offset j with
    probability C(m−j, r−1) / C(m, r)."""
    return _reciprocal_rank(_hits(ranked, relevant, scores), k)


def average_precision_at_k(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int, scores: Sequence[float] | None = None
) -> float:
    """Σ over the first k positions of precision-at-that-position at each relevant item, divided by
    min(number relevant, k) so that a perfect top-k scores 1; NaN without relevant items."""
    return _average_precision(_hits(ranked, relevant, scores), k)


def query_metrics(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], scores: Sequence[float] | None = None
) -> dict[str, float]:
    """Every reported metric of one query (ranked to at least DEPTH items when that many exist)."""
    hits = _hits(ranked, relevant, scores)
    metrics = {f"R@{k}": _recall(hits, k) for k in RECALL_KS}
    metrics |= {f"P@{k}": _precision(hits, k) for k in PRECISION_KS}
    metrics["MRR"] = _reciprocal_rank(hits, MRR_K)
    metrics[f"mAP@{MAP_K}"] = _average_precision(hits, MAP_K)
    metrics[f"nDCG@{NDCG_K}"] = _ndcg(hits, NDCG_K)
    return metrics


def mean_metrics(per_query: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over the queries where it is defined, plus Marqo's headline averages
    AvgRecall = mean(R@1, R@10) and AvgP = mean(P@1, P@10)."""
    rows = list(per_query)
    if not rows:
        return {}
    means = {}
    for name in rows[0]:
        values = np.array([row[name] for row in rows], dtype=np.float64)
        defined = values[~np.isnan(values)]
        means[name] = float(defined.mean()) if len(defined) else math.nan
    means["AvgRecall"] = (means["R@1"] + means["R@10"]) / 2
    means["AvgP"] = (means["P@1"] + means["P@10"]) / 2
    return means
