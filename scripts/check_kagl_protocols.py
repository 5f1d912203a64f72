"""Development check against the published KAGL ground truth (not a test: it needs ../shared/data).

1. Rebuilds a catalog with the real KAGL labels of 44,434 products and the 2,000 real product names, runs our
   protocol builders on it and checks that they reproduce every published relevance set.
2. Judges the keyword side on that real text: BM25 over name + labels (our bundle setting) and variants, with
   KAGL's own 2,000 name queries and every label query; prints a table and writes JSON. The "read" variant is
   the engine's keyword side: each query read with the catalog's vocabulary first (search.understanding).

    python -m scripts.check_kagl_protocols --ground-truth ../shared/data/kagl-ground-truth --out build/kagl.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import add_ground_truth_argument, missing_reference_data, write_report
from search.catalog.products import ProductTable
from search.catalog.schema import LABEL_COLUMNS, NAME_COLUMN, clean_label
from search.evaluate.metrics import DEPTH, mean_metrics, query_metrics
from search.evaluate.protocols import LABEL_PROTOCOLS, JudgedQuery, build_protocols
from search.ranking.filters import FilterCompiler
from search.ranking.keyword import DEFAULT_SETTINGS, KeywordIndex, keyword_text, top_rows
from search.ranking.matching import Matcher, keyword_side
from search.understanding.reader import QueryReader
from search.understanding.vocabulary import Vocabulary

VARIANTS: dict[str, dict[str, Any]] = {
    "name+labels, stemmed (bundle default)": {},
    "name+labels, stemmed, read (the engine)": {"read": True},
    "name+labels, no stemming": {"stemmer": None},
    "name only, stemmed": {"fields": [NAME_COLUMN]},
}
Ranking = Callable[[str], tuple[np.ndarray, np.ndarray]]


def load_ground_truth(folder: Path) -> dict[str, dict[str, set[int]]]:
    """Each task name (text, category1, ...) → query → relevant KAGL item ids."""
    tasks = {"text": "ground_truth_text-image.json"}
    tasks |= {kagl: f"ground_truth_{kagl}-image+text.json" for kagl in LABEL_PROTOCOLS.values()}
    return {
        task: {query: {int(item) for item in items} for query, items in json.loads((folder / name).read_text()).items()}
        for task, name in tasks.items()
    }


def kagl_catalog(truth: dict[str, dict[str, set[int]]]) -> pd.DataFrame:
    """Products table rows with the real labels; the real name where KAGL published one, else none."""
    ids = sorted(set().union(*truth["category1"].values()))
    frame = pd.DataFrame({"id": ids, "gender": "", "year": None, NAME_COLUMN: ""}).set_index("id", drop=False)
    for column, kagl in LABEL_PROTOCOLS.items():
        frame[column] = ""
        for label, items in truth[kagl].items():
            frame.loc[sorted(items), column] = label
    for name, items in truth["text"].items():
        frame.loc[sorted(items), NAME_COLUMN] = clean_label(name)
    return frame[["id", *LABEL_COLUMNS, "year", NAME_COLUMN]].reset_index(drop=True)


def check_reproduction(frame: pd.DataFrame, truth: dict[str, dict[str, set[int]]]) -> dict[str, Any]:
    """Our relevance sets, mapped to KAGL ids, against the published ones, per task."""
    ids = frame["id"].to_numpy()
    checks = {}
    for task, protocol in zip(["text", *LABEL_PROTOCOLS.values()], ["text", *LABEL_PROTOCOLS], strict=True):
        (built,) = build_protocols(frame, [protocol], None, 0)
        ours = {clean_label(q.text): {int(ids[row]) for row in q.relevant} for q in built.queries}
        theirs = {clean_label(query): items for query, items in truth[task].items()}
        differ = sorted(query for query in theirs if ours.get(query) != theirs[query])
        checks[protocol] = {
            "kagl_task": task,
            "kagl_queries": len(theirs),
            "our_queries": len(ours),
            "identical": len(theirs) - len(differ),
            "differ": differ[:10],
        }
    return checks


def kagl_queries(frame: pd.DataFrame, truth: dict[str, dict[str, set[int]]], task: str) -> list[JudgedQuery]:
    """KAGL's own queries with their relevant rows in `frame` (products outside it dropped)."""
    row_of = {int(item): row for row, item in enumerate(frame["id"])}
    queries = []
    for text, items in truth[task].items():
        relevant = frozenset(row_of[item] for item in items if item in row_of)
        if relevant:
            queries.append(JudgedQuery(relevant, text=text))
    return queries


def judge_keyword(frame: pd.DataFrame, truth: dict[str, dict[str, set[int]]], settings: dict) -> list[dict]:
    """Keyword metrics per KAGL task over the given catalog, with build time and per-query latency."""
    records = frame.to_dict("records")
    settings = dict(settings)
    read = settings.pop("read", False)
    fields = settings.get("fields", DEFAULT_SETTINGS["fields"])
    started = time.perf_counter()
    index = KeywordIndex.build([keyword_text(record, fields) for record in records], settings)
    search = read_ranking(records, index) if read else lambda text: index.search(text, DEPTH)
    build_seconds = time.perf_counter() - started
    rows = []
    for task, protocol in zip(["text", *LABEL_PROTOCOLS.values()], ["text", *LABEL_PROTOCOLS], strict=True):
        queries = kagl_queries(frame, truth, task)
        per_query, timings = [], []
        for query in queries:
            began = time.perf_counter()
            scores, ranked = search(query.text or "")
            timings.append((time.perf_counter() - began) * 1000)
            per_query.append(query_metrics(ranked.tolist(), query.relevant, scores.tolist()))
        rows.append(
            {
                "protocol": protocol,
                "queries": len(queries),
                "metrics": mean_metrics(per_query),
                "latency_ms_p50": float(np.percentile(timings, 50)),
                "latency_ms_p95": float(np.percentile(timings, 95)),
                "build_seconds": build_seconds,
            }
        )
    return rows


def read_ranking(records: list[dict[str, Any]], index: KeywordIndex) -> Ranking:
    """The engine's keyword-only ranking (semantic_weight 0) over these products: the query read with their
    vocabulary, the products matching it first, then BM25 with the attribute boost."""
    vocabulary = Vocabulary.build(records)
    reader = QueryReader(vocabulary, index)
    matcher = Matcher(index, FilterCompiler(ProductTable.from_rows(records), vocabulary.brand_labels()))

    def search(text: str) -> tuple[np.ndarray, np.ndarray]:
        reading = reader.read(text)
        side = keyword_side(index.scores(reading.searched), matcher.match(reading.terms))
        return top_rows(side.order(), DEPTH)

    return search


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ground_truth_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("build/kagl-check.json"))
    args = parser.parse_args(argv)
    if missing_reference_data(args.ground_truth):
        return 2
    truth = load_ground_truth(args.ground_truth)
    frame = kagl_catalog(truth)
    named = frame[frame[NAME_COLUMN] != ""].reset_index(drop=True)
    report: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()},
        "catalog": {"products": len(frame), "named_products": len(named)},
        "reproduction": check_reproduction(frame, truth),
        "keyword": {},
    }
    catalogs = {"all 44,434 products": frame, f"{len(named):,} named products": named}
    for catalog_name, catalog in catalogs.items():
        for variant, settings in VARIANTS.items():
            report["keyword"][f"{catalog_name} | {variant}"] = judge_keyword(catalog, truth, settings)

    print("Protocol reproduction (our relevance sets vs the published KAGL ground truth):")
    print(pd.DataFrame(report["reproduction"]).T.drop(columns="differ").to_string())
    columns = ("R@1", "R@10", "P@1", "P@10", "MRR", "nDCG@10", "AvgRecall", "AvgP")
    table = pd.DataFrame(
        [
            {"catalog | variant": setting, "protocol": r["protocol"], "n": r["queries"]}
            | {c: r["metrics"][c] for c in columns}
            | {"p50 ms": r["latency_ms_p50"], "build s": r["build_seconds"]}
            for setting, results in report["keyword"].items()
            for r in results
        ]
    )
    print("\nKeyword (BM25) search judged with the real KAGL queries:")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    write_report(report, args.out)
    print(f"\nWrote {args.out}")
    identical = all(c["identical"] == c["kagl_queries"] for c in report["reproduction"].values())
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
