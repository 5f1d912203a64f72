"""Keyword search on the words shoppers type for labels and name features, before and after the text analysis.

A development measurement (not a test: it needs ../shared/data). The catalog is the one of
`scripts/check_kagl_protocols.py`: the real labels of all 44,434 KAGL products and the 2,000 real names (2,774
products). Query groups, each judged by R@10, P@10, MRR and nDCG@10 against the products that carry the label
(or whose real name has the feature):

- `as labelled`: every articleType, baseColour and usage label exactly as the catalog writes it ("Tshirts");
- `singular`: the same in lower case with the last word made singular by `inflect` ("tshirt", "casual shoe");
- `written forms`: the hyphenated, spaced, joined and informal forms of the real vocabulary ("t-shirt", "tee",
  "flip-flops", "sun glasses", "gray") — each names one label;
- `colour + type`: "{colour} {article type}" in the singular ("black casual shoe") for each pair carried by at
  least 20 products, relevant = products carrying both labels;
- `name features`: words only names carry ("v-neck", "slip on"), relevant = names matching a pattern.

    python -m scripts.measure_keywords --ground-truth ../shared/data/kagl-ground-truth --out build/keywords.json
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import inflect
import numpy as np
import pandas as pd

from scripts.check_kagl_protocols import kagl_catalog, load_ground_truth
from scripts.common import add_ground_truth_argument, missing_reference_data, write_report
from search.catalog.schema import NAME_COLUMN
from search.evaluate.metrics import DEPTH, query_metrics
from search.ranking.keyword import DEFAULT_SETTINGS, KEYWORD_FIELDS, KeywordIndex, keyword_text

FIELDS = ("articleType", "baseColour", "usage")
# Forms of the catalog's labels seen in its real names or typed by shoppers, each naming one label.
WRITTEN_FORMS = {
    ("articleType", "Tshirts"): ["t-shirt", "t-shirts", "t shirt", "tshirt", "tee", "tees", "tee shirt"],
    ("articleType", "Flip Flops"): ["flip-flops", "flipflops", "flip flop", "flip-flop"],
    ("articleType", "Sweatshirts"): ["sweat shirt", "sweat-shirt"],
    ("articleType", "Handbags"): ["hand bag", "hand-bags"],
    ("articleType", "Sunglasses"): ["sun glasses", "sun-glasses"],
    ("articleType", "Earrings"): ["ear rings", "ear-rings"],
    ("articleType", "Backpacks"): ["back pack", "back-packs"],
    ("articleType", "Track Pants"): ["trackpants", "track-pants", "track pant"],
    ("articleType", "Tracksuits"): ["track suit", "track-suits"],
    ("articleType", "Nightdress"): ["night dress", "night-dress"],
    ("articleType", "Night suits"): ["nightsuit", "night-suits"],
    ("articleType", "Wristbands"): ["wrist band", "wrist-bands"],
    ("articleType", "Cufflinks"): ["cuff links", "cuff-links"],
    ("articleType", "Waistcoat"): ["waist coat", "waist-coat"],
    ("articleType", "Swimwear"): ["swim wear", "swim-wear"],
    ("articleType", "Key chain"): ["keychain", "key-chain"],
    ("articleType", "Lip Gloss"): ["lipgloss", "lip-gloss"],
    ("articleType", "Nail Polish"): ["nailpolish", "nail-polish"],
    ("articleType", "Kajal and Eyeliner"): ["eye liner", "eye-liner"],
    ("articleType", "Sports Shoes"): ["sport shoe", "sports-shoes"],
    ("articleType", "Casual Shoes"): ["casual shoe", "casual-shoes"],
    ("articleType", "Jewellery Set"): ["jewelry set", "jewellery-set"],
    ("baseColour", "Grey"): ["gray"],
    ("baseColour", "Off White"): ["off-white", "offwhite"],
    ("baseColour", "Navy Blue"): ["navy-blue", "navyblue"],
    ("baseColour", "Grey Melange"): ["gray melange", "grey-melange"],
    ("usage", "Smart Casual"): ["smart-casual"],
}
# Words that only product names carry: query forms → the pattern a relevant name matches.
NAME_FEATURES = {
    ("v-neck", "v neck", "vneck"): r"\bv[\s-]?neck",
    ("slip-on", "slip on", "slipon"): r"\bslip[\s-]?on\b",
    ("make-up", "make up", "makeup"): r"\bmake[\s-]?up\b",
    ("ray-ban", "ray ban", "rayban"): r"\bray[\s-]?ban\b",
    ("full-coverage", "full coverage"): r"\bfull[\s-]?coverage\b",
    ("push-up", "push up"): r"\bpush[\s-]?up\b",
    ("3/4th", "3/4"): r"\b3/4",
    ("g-shock", "gshock"): r"\bg[\s-]?shock\b",
}
BEFORE = {"analyzer": None, "token_pattern": r"(?u)\b\w\w+\b"}
SETTINGS = {"before (bm25s default pattern)": BEFORE, "after (fashion analysis)": {}}


@dataclass(frozen=True)
class LabelQuery:
    group: str
    field: str
    text: str
    relevant: frozenset[int]


def label_queries(frame: pd.DataFrame) -> list[LabelQuery]:
    """Every query of the first three groups, with its relevant rows."""
    singular = inflect.engine()
    queries = []
    for field in FIELDS:
        for label, rows in frame.groupby(field).indices.items():
            if not label:
                continue
            relevant = frozenset(int(row) for row in rows)
            *head, last = label.split()
            single = " ".join([*head, singular.singular_noun(last) or last]).lower()
            queries.append(LabelQuery("as labelled", field, label, relevant))
            queries.append(LabelQuery("singular", field, single, relevant))
            for text in WRITTEN_FORMS.get((field, label), []):
                queries.append(LabelQuery("written forms", field, text, relevant))
    return queries


def colour_type_queries(frame: pd.DataFrame, minimum: int = 20) -> list[LabelQuery]:
    """ "{colour} {article type}" in the singular ("black casual shoe"), for every pair carried by enough products."""
    singular = inflect.engine()
    queries = []
    for (colour, article), rows in frame.groupby(["baseColour", "articleType"]).indices.items():
        if colour and article and len(rows) >= minimum:
            *head, last = article.split()
            text = " ".join([colour, *head, singular.singular_noun(last) or last]).lower()
            queries.append(LabelQuery("colour + type", "both", text, frozenset(int(row) for row in rows)))
    return queries


def name_queries(frame: pd.DataFrame) -> list[LabelQuery]:
    names = frame[NAME_COLUMN].fillna("")
    queries = []
    for forms, pattern in NAME_FEATURES.items():
        relevant = frozenset(np.flatnonzero(names.str.contains(pattern, flags=re.IGNORECASE, regex=True)).tolist())
        queries += [LabelQuery("name features", "name", text, relevant) for text in forms if relevant]
    return queries


def judge(frame: pd.DataFrame, queries: list[LabelQuery], settings: dict[str, Any]) -> tuple[list[dict], float]:
    """Per-query metrics of a keyword index with these settings over the catalog, and its build time."""
    started = time.perf_counter()
    index = KeywordIndex.build([keyword_text(record) for record in frame.to_dict("records")], settings)
    build_seconds = time.perf_counter() - started
    results = []
    for query in queries:
        scores, ranked = index.search(query.text, DEPTH)
        metrics = query_metrics(ranked.tolist(), query.relevant, scores.tolist())
        results.append({"group": query.group, "field": query.field, "query": query.text, **metrics})
    return results, build_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ground_truth_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("build/keywords.json"))
    args = parser.parse_args(argv)
    if missing_reference_data(args.ground_truth):
        return 2
    frame = kagl_catalog(load_ground_truth(args.ground_truth))
    queries = label_queries(frame) + colour_type_queries(frame) + name_queries(frame)
    report: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "load": os.getloadavg()},
        "catalog": {"products": len(frame), "named_products": int((frame[NAME_COLUMN] != "").sum())},
        "fields": list(KEYWORD_FIELDS),
        "settings": {name: {**DEFAULT_SETTINGS, **settings} for name, settings in SETTINGS.items()},
        "runs": {},
    }
    frames = []
    for name, settings in SETTINGS.items():
        results, build_seconds = judge(frame, queries, settings)
        report["runs"][name] = {"build_seconds": build_seconds, "queries": results}
        frames.append(pd.DataFrame(results).assign(setting=name))
    table = pd.concat(frames)
    summary = (
        table.groupby(["group", "field", "setting"], sort=False)
        .agg(n=("query", "size"), **{m: (m, "mean") for m in ("R@10", "P@10", "MRR", "nDCG@10")})
        .reset_index()
    )
    report["summary"] = summary.to_dict("records")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    pivot = table.pivot_table(index=["group", "query"], columns="setting", values="P@10", sort=False)
    before, after = SETTINGS
    pivot["change"] = pivot[after] - pivot[before]
    print("\nLargest P@10 changes per query:")
    print(pivot.sort_values("change").iloc[np.r_[0:10, -25:0]].to_string(float_format=lambda v: f"{v:.2f}"))
    write_report(report, args.out)
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
