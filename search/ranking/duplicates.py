"""Collapse results whose stored vectors are near-identical into one group, so a page shows one tile "+N similar".

The catalog holds products photographed with the very same picture (121 groups of byte-identical photos among
the 9,583 real photos measured, docs/EVALUATION.md); their image vectors are equal, and a results page full of
them shows one thing many times. Grouping is greedy in rank order: a result joins the best-ranked group leader it
is near-identical to, so a group's leader is always its best result and the order of leaders is the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Cosine of stored vectors at or above which two results collapse: only the same picture (measured cosine 1.0
# up to float error for identical pixels with every model tried); docs/EVALUATION.md says why not lower.
DEFAULT_THRESHOLD = 0.9999


@dataclass(frozen=True)
class Group:
    """Positions (in the ranked list) of a group's leader and of the results folded into it."""

    leader: int
    members: tuple[int, ...]


def group_near_identical(
    vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD, limit: int | None = None
) -> list[Group]:
    """Groups of the ranked vectors (row 0 = best); each row joins the first earlier leader within threshold.
    With `limit`, only the first `limit` groups: a row like none of them would lead a later group, so it is left
    out (and the cost stays rows × limit, not rows², when a search looks deep for enough groups)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    limit = len(vectors) if limit is None else min(limit, len(vectors))
    leader_vectors = np.empty((limit, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    leaders: list[int] = []
    members: list[list[int]] = []
    for position, vector in enumerate(vectors):
        if leaders:
            near = np.flatnonzero(leader_vectors[: len(leaders)] @ vector >= threshold)
            if len(near):
                members[near[0]].append(position)
                continue
        if len(leaders) < limit:
            leader_vectors[len(leaders)] = vector
            leaders.append(position)
            members.append([])
    return [Group(leader, tuple(folded)) for leader, folded in zip(leaders, members, strict=True)]


def fewer_groups_notice(groups: int, wanted: int, candidates: int, complete: bool) -> str | None:
    """Why collapsing near-identical results left fewer than the `wanted` groups, or None when it did not."""
    if groups >= wanted:
        return None
    folded = candidates - groups
    if complete:
        return (
            f"Only {groups} different photo{'s' if groups != 1 else ''} among the {candidates:,} matching products: "
            f"the other {folded:,} are near-identical photos, folded into them (“+N similar”)."
        )
    return (
        f"Only {groups} different photo{'s' if groups != 1 else ''} among the best {candidates:,} results: the other "
        f"{folded:,} are near-identical photos, folded into them (“+N similar”). Turn off folding similar results, "
        "or narrow the search with filters, to see more."
    )
