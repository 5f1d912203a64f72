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


def group_near_identical(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[Group]:
    """Groups of the ranked vectors (row 0 = best); each row joins the first earlier leader within threshold."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return []
    similar = (vectors @ vectors.T) >= threshold
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for position in range(len(vectors)):
        leader = next((known for known in leaders if similar[position, known]), None)
        if leader is None:
            leaders.append(position)
            members[position] = []
        else:
            members[leader].append(position)
    return [Group(leader, tuple(members[leader])) for leader in leaders]
