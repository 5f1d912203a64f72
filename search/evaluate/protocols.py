"""Evaluation protocols built from the catalog's own names and labels, compatible with the KAGL protocol of the
Marqo-FashionCLIP benchmark (KAGL is the Kaggle source of our dataset and its item ids are our `id` column).

A protocol is a list of queries (a text, a product photo, or both), each with the set of relevant rows.
Everything is a function of the products table and a seed, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from search.catalog.schema import NAME_COLUMN

# Our label column → the name of the matching KAGL ground-truth file (ground_truth_<name>-image+text.json).
LABEL_PROTOCOLS = {
    "masterCategory": "category1",
    "subCategory": "category2",
    "articleType": "category3",
    "baseColour": "baseColour",
    "season": "season",
    "usage": "usage",
}
TEXT, IMAGE, COMPOSED = "text", "image", "composed"


@dataclass(frozen=True)
class JudgedQuery:
    """One query: its text and/or the row whose photo is the query image, and the relevant rows."""

    relevant: frozenset[int]
    text: str | None = None
    image_row: int | None = None


@dataclass
class Protocol:
    """A named set of queries of one kind (text, image or composed) and how they were made."""

    name: str
    kind: str
    description: str
    queries: list[JudgedQuery] = field(default_factory=list)
    skipped: int = 0


def _rows_by(frame: pd.DataFrame, columns: Sequence[str]) -> dict[tuple[str, ...], np.ndarray]:
    """Rows per combination of non-empty labels of the columns."""
    labels = frame[list(columns)].astype("string").fillna("")
    labels = labels[(labels != "").all(axis=1)]
    return {
        tuple(key) if isinstance(key, tuple) else (key,): frame.index.get_indexer(rows)
        for key, rows in labels.groupby(list(columns), sort=True).groups.items()
    }


def _sample(count: int, wanted: int | None, seed: int) -> np.ndarray:
    """Up to `wanted` distinct positions of range(count), sorted, fixed by the seed; all when wanted is None."""
    if wanted is None or wanted >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=wanted, replace=False))


def text_protocol(frame: pd.DataFrame, queries: int | None = 2000, seed: int = 0) -> Protocol:
    """KAGL text-to-image: sampled product names as queries, relevant = every product with exactly that name."""
    by_name = _rows_by(frame, [NAME_COLUMN])
    names = sorted(by_name)
    protocol = Protocol(TEXT, TEXT, "product name → every product with exactly that name")
    for position in _sample(len(names), queries, seed):
        name = names[position]
        protocol.queries.append(JudgedQuery(frozenset(by_name[name].tolist()), text=name[0]))
    return protocol


def label_protocol(frame: pd.DataFrame, column: str, queries: int | None = None, seed: int = 0) -> Protocol:
    """KAGL category/colour/season/usage-to-product: the label text itself, relevant = every product with it."""
    by_label = _rows_by(frame, [column])
    labels = sorted(by_label)
    protocol = Protocol(column, TEXT, f"{column} label text → every product carrying it")
    for position in _sample(len(labels), queries, seed):
        protocol.queries.append(JudgedQuery(frozenset(by_label[labels[position]].tolist()), text=labels[position][0]))
    return protocol


def image_protocol(frame: pd.DataFrame, columns: Sequence[str], queries: int | None = 2000, seed: int = 0) -> Protocol:
    """A product's photo, relevant = the other products sharing its labels in `columns`."""
    groups = _rows_by(frame, columns)
    labels = frame[list(columns)].astype("string").fillna("")
    protocol = Protocol(
        "image-" + "-".join(columns), IMAGE, f"product photo → other products with the same {' + '.join(columns)}"
    )
    for row in _sample(len(frame), queries, seed):
        relevant = frozenset(groups.get(tuple(labels.iloc[row]), np.array([], dtype=int)).tolist()) - {int(row)}
        if relevant:
            protocol.queries.append(JudgedQuery(relevant, image_row=int(row)))
        else:
            protocol.skipped += 1
    return protocol


def composed_protocol(frame: pd.DataFrame, change: str, queries: int | None = 2000, seed: int = 0) -> Protocol:
    """A product's photo plus the name of another `change` label (baseColour or articleType); relevant = the
    products with that label and the reference's gender and other label ("this shirt, but Red")."""
    keep = "articleType" if change == "baseColour" else "baseColour"
    columns = ["gender", keep, change]
    groups = _rows_by(frame, columns)
    options: dict[tuple[str, str], list[str]] = {}
    for gender, kept, changed in groups:
        options.setdefault((gender, kept), []).append(changed)
    labels = frame[columns].astype("string").fillna("")
    protocol = Protocol(
        f"composed-{change}", COMPOSED, f"product photo + another {change} → same gender and {keep}, that {change}"
    )
    rng = np.random.default_rng(seed + 1)
    for row in _sample(len(frame), queries, seed):
        gender, kept, current = labels.iloc[row]
        choices = [label for label in options.get((gender, kept), []) if label != current]
        if not current or not choices:
            protocol.skipped += 1
            continue
        target = choices[int(rng.integers(len(choices)))]
        relevant = frozenset(groups[(gender, kept, target)].tolist())
        protocol.queries.append(JudgedQuery(relevant, text=target, image_row=int(row)))
    return protocol


def _label_builder(column: str) -> Callable[[pd.DataFrame, int | None, int], Protocol]:
    return lambda frame, n, seed: label_protocol(frame, column, n, seed)


BUILDERS: dict[str, Callable[[pd.DataFrame, int | None, int], Protocol]] = {
    TEXT: text_protocol,
    **{name: _label_builder(name) for name in LABEL_PROTOCOLS},
    "image-articleType": lambda frame, n, seed: image_protocol(frame, ["articleType"], n, seed),
    "image-articleType-baseColour": lambda frame, n, seed: image_protocol(
        frame, ["articleType", "baseColour"], n, seed
    ),
    "composed-baseColour": lambda frame, n, seed: composed_protocol(frame, "baseColour", n, seed),
    "composed-articleType": lambda frame, n, seed: composed_protocol(frame, "articleType", n, seed),
}
GROUPS = {
    "all": list(BUILDERS),
    "label": list(LABEL_PROTOCOLS),
    "category": ["masterCategory", "subCategory", "articleType"],
    "colour": ["baseColour"],
    "season-usage": ["season", "usage"],
    "image": ["image-articleType", "image-articleType-baseColour"],
    "composed": ["composed-baseColour", "composed-articleType"],
}


def protocol_names(spec: str) -> list[str]:
    """Protocol names from a comma-separated list of names and groups (all, label, category, colour,
    season-usage, image, composed), in the canonical order."""
    wanted: set[str] = set()
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part in GROUPS:
            wanted.update(GROUPS[part])
        elif part in BUILDERS:
            wanted.add(part)
        else:
            raise ValueError(f"Unknown protocol '{part}'; choose from {', '.join(GROUPS)} or {', '.join(BUILDERS)}.")
    if not wanted:
        raise ValueError("--protocol names no protocol.")
    return [name for name in BUILDERS if name in wanted]


def build_protocols(frame: pd.DataFrame, names: Sequence[str], queries: int | None, seed: int) -> list[Protocol]:
    """The named protocols over the rows of `frame` (label protocols use every label, capped at `queries`)."""
    return [BUILDERS[name](frame.reset_index(drop=True), queries, seed) for name in names]
