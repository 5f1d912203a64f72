"""Collapse results that are the same thing into one group, so a page shows one tile "+N similar": results whose
stored vectors are near-identical, and results with the same name (a size or colour run).

The catalog holds products photographed with the very same picture (121 groups of byte-identical photos among
the 9,583 real photos measured, docs/EVALUATION.md); their image vectors are equal, and a results page full of
them shows one thing many times. It also sells runs under one name ("Deni Yo Men Washed Blue Jeans" ×4; the 580
named real products carry 441 names), photographed apart. Grouping is greedy in rank order: a result joins the
best-ranked group leader it is near-identical to or shares its name with, so a group's leader is always its best
result and the order of leaders is the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    vectors: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int | None = None,
    names: Sequence[str] | None = None,
) -> list[Group]:
    """Groups of the ranked vectors (row 0 = best); each row joins the first earlier leader within threshold or,
    given `names` (one per row), with the same non-empty name (compared case- and space-insensitively).
    With `limit`, only the first `limit` groups: a row like none of them would lead a later group, so it is left
    out (and the cost stays rows × limit, not rows², when a search looks deep for enough groups)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    limit = len(vectors) if limit is None else min(limit, len(vectors))
    leader_vectors = np.empty((limit, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    keys = [name_key(name) for name in names] if names is not None else [""] * len(vectors)
    leaders: list[int] = []
    leader_of_name: dict[str, int] = {}
    members: list[list[int]] = []
    for position, vector in enumerate(vectors):
        if leaders:
            near = np.flatnonzero(leader_vectors[: len(leaders)] @ vector >= threshold)
            named = leader_of_name.get(keys[position])
            group = min([*near[:1].tolist(), *([named] if named is not None else [])], default=None)
            if group is not None:
                members[group].append(position)
                continue
        if len(leaders) < limit:
            leader_vectors[len(leaders)] = vector
            if keys[position]:
                leader_of_name[keys[position]] = len(leaders)
            leaders.append(position)
            members.append([])
    return [Group(leader, tuple(folded)) for leader, folded in zip(leaders, members, strict=True)]


def name_key(name: str | None) -> str:
    """A product name as compared for folding: case and runs of spaces aside; "" (never folded) for no name."""
    return " ".join(name.casefold().split()) if name else ""


def fewer_groups_notice(groups: int, wanted: int, candidates: int, complete: bool) -> str | None:
    """Why collapsing near-identical and same-name results left fewer than the `wanted` groups, or None when it
    did not."""
    if groups >= wanted:
        return None
    folded = candidates - groups
    distinct = f"{groups} distinct product{'s' if groups != 1 else ''}"
    if complete:
        return (
            f"Only {distinct} among the {candidates:,} matching products: the other {folded:,} are near-identical "
            "photos or share a name, folded into them (“+N similar”)."
        )
    return (
        f"Only {distinct} among the best {candidates:,} results: the other {folded:,} are near-identical photos or "
        "share a name, folded into them (“+N similar”). Turn off folding similar results, or narrow the search with "
        "filters, to see more."
    )
