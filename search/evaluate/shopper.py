"""The shopper-query protocol: what visitors of a fashion shop type, judged by the catalog's labels, through the
engine's own search calls, with the query reader (search.understanding) and without it (before/after).

Five kinds of query, each made from the loaded catalog and a seed (so a run is reproducible):

- misspelt: an article type, colour or brand with one typo ("jeens", "blakc", "wranglr"); relevant = the products
  carrying it; its correct form is the catalog's own word;
- synonym: a shopper word of search.understanding.synonyms ("sneakers", "ladies tops"), alone or with a colour;
  relevant = the products carrying the labels it stands for; its correct form uses the label ("casual shoes");
- attributes: two or three labels the catalog combines ("black casual shoes", "nike tshirts", "red tops for
  women", "summer dresses"); relevant = the products carrying all of them;
- natural: the same combinations said as a shopper would ("i'm looking for black casual shoes", "show me some
  red tops for women please"); relevant as for attributes;
- unknown: a combination plus a word the catalog does not use ("black casual shoes with unicorns"); relevant as
  for attributes.

Targets (issue 20): a misspelt or synonym query reaches ≥ 0.9 of the P@10 of its correct form; attribute
combinations reach P@10 ≥ 0.8 with keywords alone. The balance is measured on the natural phrasings: P@10 with the
reader on at fixed semantic weights and at the weight the words decide (BALANCE_WEIGHTS).

    python -m search.evaluate.shopper --index build/real-all/bundle --queries 80 --out build/shopper.json \
        --show "a gift for my father"
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from search.catalog.schema import LABEL_COLUMNS
from search.engine import SearchEngine
from search.errors import SearchError
from search.evaluate.metrics import DEPTH, mean_metrics, query_metrics
from search.evaluate.report import machine_info
from search.ranking.hybrid import DEFAULT_SEMANTIC_WEIGHT
from search.understanding.spelling import correctable
from search.understanding.vocabulary import Vocabulary, text_words

logger = logging.getLogger("search.evaluate")

KINDS = ("misspelt", "synonym", "attributes", "natural", "unknown")
# A query needs at least this many relevant products, so a perfect ranking has P@10 = 1.
MIN_RELEVANT = 10
NATURAL = (
    "i'm looking for {0}",
    "show me some {0} please",
    "do you have any {0}",
    "i need {0} for next week",
    "something like {0} would be great",
    "can you find me {0}",
)
# Words a fashion catalog rarely uses; each is used only where the loaded catalog does not know it.
UNKNOWN = ("unicorns", "dinosaurs", "glitter", "holograms", "rockets", "sequinned llamas", "pineapples", "robots")
COMBINATIONS = (
    ("baseColour", "articleType"),
    ("gender", "articleType"),
    ("brand", "articleType"),
    ("season", "articleType"),
    ("baseColour", "articleType", "gender"),
)
TYPO_FIELDS = ("articleType", "baseColour", "brand")


@dataclass(frozen=True)
class ShopperQuery:
    """One shopper query, the products it should find, and for a misspelt or synonym query the same query in the
    catalog's own words."""

    kind: str
    text: str
    relevant: frozenset[int]
    correct_form: str | None = None


class Labels:
    """The catalog's labels per row (with the brands read from names) and the rows carrying given labels."""

    def __init__(self, frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
        self.columns = {field: frame[field].astype("string").fillna("").to_numpy() for field in LABEL_COLUMNS}
        self.columns["brand"] = np.array(vocabulary.brand_labels(), dtype=object)
        self.vocabulary = vocabulary

    def rows(self, wanted: dict[str, Sequence[str]]) -> frozenset[int]:
        """The rows carrying one of the values of every field."""
        mask = np.ones(len(self.columns["gender"]), dtype=bool)
        for field, values in wanted.items():
            mask &= np.isin(self.columns[field], list(values))
        return frozenset(np.flatnonzero(mask).tolist())

    def values(self, field: str) -> list[str]:
        """The field's values carried by at least MIN_RELEVANT products, most frequent first."""
        counts = pd.Series(self.columns[field]).value_counts()
        return [str(value) for value, count in counts.items() if value and count >= MIN_RELEVANT]


def said(field: str, value: str) -> str:
    """How a shopper writes a label: lower case; a gender as "for men"."""
    return f"for {value.lower()}" if field == "gender" else value.lower()


def phrase(labels: dict[str, str]) -> str:
    """A combination of labels as a shopper writes it: "black casual shoes for women"."""
    order = ("brand", "season", "baseColour", "articleType", "gender")
    return " ".join(said(field, labels[field]) for field in order if field in labels)


def combinations(labels: Labels, rng: random.Random, count: int) -> list[tuple[dict[str, str], frozenset[int]]]:
    """Up to `count` label combinations carried by at least MIN_RELEVANT products, spread over COMBINATIONS."""
    found: list[tuple[dict[str, str], frozenset[int]]] = []
    for fields in COMBINATIONS:
        pools = [labels.values(field)[:12] for field in fields]
        options = [dict(zip(fields, chosen, strict=True)) for chosen in _product(pools)]
        rng.shuffle(options)
        kept = 0
        for option in options:
            relevant = labels.rows({field: [value] for field, value in option.items()})
            if len(relevant) >= MIN_RELEVANT:
                found.append((option, relevant))
                kept += 1
            if kept >= -(-count // len(COMBINATIONS)):
                break
    rng.shuffle(found)
    return found[:count]


def _product(pools: list[list[str]]) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = [()]
    for pool in pools:
        result = [(*prefix, value) for prefix in result for value in pool]
    return result


def typo(word: str, rng: random.Random, known: set[str]) -> str | None:
    """One edit a hurried shopper makes (a letter dropped, doubled, two swapped, a vowel wrong), not at the first
    letter; None when every try gives a word the catalog knows or a common English word."""
    for _ in range(20):
        position = rng.randrange(1, len(word))
        edit = rng.choice(("drop", "double", "swap", "vowel"))
        if edit == "drop":
            changed = word[:position] + word[position + 1 :]
        elif edit == "double":
            changed = word[:position] + word[position] + word[position:]
        elif edit == "swap" and position < len(word) - 1:
            changed = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        else:
            vowels = [i for i, letter in enumerate(word) if letter in "aeiou" and i > 0]
            if not vowels:
                continue
            at = rng.choice(vowels)
            changed = word[:at] + rng.choice([v for v in "aeiou" if v != word[at]]) + word[at + 1 :]
        if changed != word and changed not in known and correctable(changed):
            return changed
    return None


def shopper_queries(
    frame: pd.DataFrame, vocabulary: Vocabulary, per_kind: int = 80, seed: int = 0
) -> list[ShopperQuery]:
    """The protocol's queries over a catalog (its products table as a frame, in row order) and its vocabulary."""
    rng = random.Random(seed)
    labels = Labels(frame.reset_index(drop=True), vocabulary)
    known = set(vocabulary.words)
    queries: list[ShopperQuery] = []

    misspelt = []
    for field in TYPO_FIELDS:
        for value in labels.values(field):
            words = value.lower().split()
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            if len(words[longest]) < 5 or not words[longest].isalpha():
                continue
            wrong = typo(words[longest], rng, known)
            if wrong is not None:
                text = " ".join(wrong if i == longest else w for i, w in enumerate(words))
                misspelt.append(ShopperQuery("misspelt", text, labels.rows({field: [value]}), value.lower()))
    rng.shuffle(misspelt)
    queries += misspelt[:per_kind]

    synonyms = []
    colours = labels.values("baseColour")[:6]
    for word, targets in vocabulary.synonyms.items():
        field, values = targets[0][0], [value for _, value in targets]
        relevant = labels.rows({field: values})
        if len(relevant) >= MIN_RELEVANT:
            synonyms.append(ShopperQuery("synonym", word, relevant, said(field, values[0])))
        if field == "articleType":
            for colour in colours:
                relevant = labels.rows({field: values, "baseColour": [colour]})
                if len(relevant) >= MIN_RELEVANT:
                    text, right = f"{colour.lower()} {word}", f"{colour.lower()} {values[0].lower()}"
                    synonyms.append(ShopperQuery("synonym", text, relevant, right))
    rng.shuffle(synonyms)
    queries += synonyms[:per_kind]

    combos = combinations(labels, rng, per_kind)
    queries += [ShopperQuery("attributes", phrase(option), relevant) for option, relevant in combos]
    queries += [
        ShopperQuery("natural", rng.choice(NATURAL).format(phrase(option)), relevant) for option, relevant in combos
    ]
    decoys = [word for word in UNKNOWN if not set(text_words(word)) & known]
    if decoys:
        queries += [
            ShopperQuery("unknown", f"{phrase(option)} with {rng.choice(decoys)}", relevant)
            for option, relevant in combos
        ]
    return queries


@dataclass(frozen=True)
class Setting:
    """One way of searching: the method's name, the semantic weight (None: the query decides) and whether the
    query reader is on."""

    method: str
    stage: str
    semantic_weight: float | None
    understand: bool


# The fixed keyword/meaning balances the words' own choice is compared with (on the natural phrasings).
BALANCE_WEIGHTS = (0.0, 0.3, 0.5, 0.8, 1.0)

SETTINGS = (
    Setting("keyword", "before", 0.0, False),
    Setting("keyword", "after", 0.0, True),
    Setting("hybrid", "before", DEFAULT_SEMANTIC_WEIGHT, False),
    Setting("hybrid", "after", None, True),
)


def judge(engine: SearchEngine, text: str, relevant: frozenset[int], weight: float | None) -> dict[str, float]:
    """One query's metrics through the engine's text search (top DEPTH, nothing folded); the products it ranks
    first (matching) keep their place when scores tie with later ones."""
    response = engine.search_text(text, k=DEPTH, semantic_weight=weight, collapse_similar=False)
    rows = [result.row for result in response]
    scores = [result.score + (4.0 if result.matched else 0.0) for result in response]
    return query_metrics(rows, relevant, scores)


def run(engine: SearchEngine, queries: Sequence[ShopperQuery]) -> list[dict[str, Any]]:
    """Mean metrics per kind, method and stage; for misspelt and synonym queries also their correct forms'."""
    engines = {True: engine, False: SearchEngine(engine.bundle, engine.encoder, engine.folder, understand=False)}
    rows = []
    for setting in SETTINGS:
        searcher = engines[setting.understand]
        for kind in KINDS:
            chosen = [query for query in queries if query.kind == kind]
            if not chosen:
                continue
            label = f"{setting.method} {setting.stage} · {kind}"
            judged = [
                judge(searcher, q.text, q.relevant, setting.semantic_weight)
                for q in tqdm(chosen, desc=label, leave=False)
            ]
            metrics = mean_metrics(judged)
            row: dict[str, Any] = {"kind": kind, "method": setting.method, "stage": setting.stage}
            row |= {"queries": len(chosen), "metrics": metrics}
            forms = [q for q in chosen if q.correct_form]
            if forms:
                right = mean_metrics(
                    [judge(searcher, q.correct_form or "", q.relevant, setting.semantic_weight) for q in forms]
                )
                row["correct_form_metrics"] = right
                row["share_of_correct_form_p10"] = metrics["P@10"] / max(right["P@10"], 1e-9)
            rows.append(row)
    return rows


def balance(engine: SearchEngine, queries: Sequence[ShopperQuery], kind: str = "natural") -> list[dict[str, Any]]:
    """Mean metrics of one kind's queries, reader on, at each of BALANCE_WEIGHTS and at the weight the words decide
    (None; with how often each weight was chosen)."""
    chosen = [query for query in queries if query.kind == kind]
    rows = []
    for weight in (None, *BALANCE_WEIGHTS):
        label = f"balance {weight if weight is not None else 'the words decide'} · {kind}"
        judged = [judge(engine, q.text, q.relevant, weight) for q in tqdm(chosen, desc=label, leave=False)]
        row: dict[str, Any] = {"kind": kind, "semantic_weight": weight, "queries": len(chosen)}
        row["metrics"] = mean_metrics(judged) if judged else {}
        if weight is None:
            used = Counter(str(engine.search_text(q.text, k=1).semantic_weight) for q in chosen)
            row["weights_used"] = dict(sorted(used.items()))
        rows.append(row)
    return rows


def balance_table(rows: Sequence[dict[str, Any]]) -> str:
    """P@10, nDCG@10 and MRR per semantic weight."""
    lines = []
    for row in rows:
        weight = row["semantic_weight"]
        cells = {"semantic_weight": "the words decide" if weight is None else f"{weight:.1f}"}
        cells |= {metric: f"{row['metrics'][metric]:.3f}" for metric in ("P@10", "nDCG@10", "MRR")}
        cells["weights used"] = ", ".join(f"{w}: {n}" for w, n in row.get("weights_used", {}).items())
        lines.append(cells)
    return pd.DataFrame(lines).to_string(index=False)


def compare(engine: SearchEngine, texts: Sequence[str]) -> list[dict[str, Any]]:
    """What each text's top 10 are before (reader off, fixed default balance), after (reader on, the words'
    balance) and by meaning alone: the balance used, the match count and the article types, to look at a phrasing
    no label names."""
    plain = SearchEngine(engine.bundle, engine.encoder, engine.folder, understand=False)
    stages = (("before", plain, DEFAULT_SEMANTIC_WEIGHT), ("after", engine, None), ("meaning alone", engine, 1.0))
    rows = []
    for text in texts:
        for stage, searcher, weight in stages:
            response = searcher.search_text(text, k=10, semantic_weight=weight, collapse_similar=False)
            types = [str(result.metadata.get("articleType") or "") for result in response]
            rows.append(
                {
                    "text": text,
                    "stage": stage,
                    "semantic_weight": response.semantic_weight,
                    "match_count": response.match_count,
                    "article_types": dict(Counter(types).most_common()),
                }
            )
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    """P@10, nDCG@10 and MRR before → after, per kind and method; the share of the correct form's P@10."""
    by = {(r["kind"], r["method"], r["stage"]): r for r in rows}
    lines = []
    for kind in KINDS:
        for method in ("keyword", "hybrid"):
            before, after = by.get((kind, method, "before")), by.get((kind, method, "after"))
            if before is None or after is None:
                continue
            cells = {"kind": kind, "method": method, "n": after["queries"]}
            for metric in ("P@10", "nDCG@10", "MRR"):
                cells[metric] = f"{before['metrics'][metric]:.3f} → {after['metrics'][metric]:.3f}"
            if "share_of_correct_form_p10" in after:
                cells["of correct form's P@10"] = (
                    f"{before['share_of_correct_form_p10']:.2f} → {after['share_of_correct_form_p10']:.2f}"
                )
            lines.append(cells)
    return pd.DataFrame(lines).fillna("").to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluate.shopper",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index", required=True, help="bundle folder or Hub dataset repo id")
    parser.add_argument("--queries", type=int, default=80, help="queries per kind (at most)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument(
        "--show",
        action="append",
        default=[],
        help="also print this text's top-10 article types before, after and by meaning alone",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        engine = SearchEngine.load(args.index)
    except SearchError as error:
        logger.error("%s", error)
        return 1
    if engine.bundle.vocabulary is None or engine.keyword is None:
        logger.error(
            "The bundle has no vocabulary or no keyword index: rebuild it with this version of index_build.py."
        )
        return 1
    queries = shopper_queries(engine.products.frame, engine.bundle.vocabulary, args.queries, args.seed)
    logger.info("%d shopper queries: %s", len(queries), {kind: sum(q.kind == kind for q in queries) for kind in KINDS})
    rows = run(engine, queries)
    print(table(rows))
    balances = balance(engine, queries)
    print("\nThe balance on the natural phrasings (reader on):\n" + balance_table(balances))
    shown = compare(engine, args.show)
    for row in shown:
        print(f"{row['text']!r} {row['stage']} (semantic_weight {row['semantic_weight']}): {row['article_types']}")
    if args.out:
        report = {
            "bundle": str(args.index),
            "model": engine.model_id,
            "products": len(engine.products),
            "machine": machine_info(engine.encoder.device),
            "queries": [{**asdict(q), "relevant": len(q.relevant)} for q in queries],
            "results": rows,
            "balance": balances,
            "shown": shown,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
