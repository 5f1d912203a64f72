"""What reading a query with the catalog's vocabulary costs a visitor (issue 20: at most 2 ms p50 on 44k products):
text searches through SearchEngine with the query reader on and off, taking turns query by query, and the reader's
own steps alone (reading, matching, the keyword side with its tiers).

Queries are distinct shopper queries ("black leather boots for men", benchmarks.fixtures.text_queries), so none is
answered by a cache; a quarter of them carry a typo, so the spelling corrector runs too.
"""

from __future__ import annotations

import logging
import random

import numpy as np

from benchmarks.common import Report, interleaved, percentiles
from benchmarks.fixtures import text_queries
from search.engine import SearchEngine
from search.query import TextQuery
from search.ranking.matching import keyword_side

logger = logging.getLogger(__name__)

K = 24
TYPO_SHARE = 0.25


def with_typos(queries: list[str], seed: int = 0) -> list[str]:
    """The queries with one letter of the longest word dropped in every fourth of them."""
    rng = random.Random(seed)
    changed = []
    for number, query in enumerate(queries):
        if number % round(1 / TYPO_SHARE) == 0:
            words = query.split()
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            cut = rng.randrange(1, len(words[longest]))
            words[longest] = words[longest][:cut] + words[longest][cut + 1 :]
            query = " ".join(words)
        changed.append(query)
    return changed


def run(engine: SearchEngine, repeats: int) -> Report:
    """p50/p95 of hybrid and keyword text searches with the reader off and on, and of the reader's steps."""
    if engine.reader is None:
        raise RuntimeError("The understanding benchmark needs a bundle with a vocabulary and a keyword index.")
    reader = engine.reader
    plain = SearchEngine(engine.bundle, engine.encoder, engine.folder, understand=False)
    report = Report(
        "understanding_cost",
        f"Reading a query with the catalog's vocabulary, {len(engine.products):,} products, k={K}",
        ["query", "p50_ms", "p95_ms", "n"],
        settings={"products": len(engine.products), "k": K, "repeats": repeats, "typo_share": TYPO_SHARE},
    )
    pool = with_typos(text_queries(4 * repeats, seed=7))
    hybrid, keyword = pool[: 2 * repeats], pool[2 * repeats :]
    names = long_queries(engine, repeats)
    forty, pasted = hostile_queries(pool, repeats, 40), hostile_queries(pool, repeats, 1_600)
    engine.search_text("warm up the reader and the corrector", K)
    plain.search_text("warm up the reader and the corrector", K)
    samples = interleaved(
        {
            "hybrid, reader off (0.3)": lambda i: plain.search_text(hybrid[i], K),
            "hybrid, reader on (the words decide)": lambda i: engine.search_text(hybrid[i], K),
            "hybrid, reader on at 0.3": lambda i: engine.search_text(hybrid[repeats + i], K, semantic_weight=0.3),
            "hybrid, reader off at 0.3 (same queries)": lambda i: plain.search_text(
                hybrid[repeats + i], K, semantic_weight=0.3
            ),
            "keyword only, reader off": lambda i: plain.search_keyword(keyword[i], K),
            "keyword only, reader on": lambda i: engine.search_keyword(keyword[i], K),
            "the reader's steps alone (read, match, keyword side)": lambda i: steps(engine, keyword[repeats + i]),
            "read alone": lambda i: reader.read(keyword[repeats + i]),
            "the reader's steps alone, a whole product name": lambda i: steps(engine, names[i % len(names)]),
            "the reader's steps alone, 40 words": lambda i: steps(engine, forty[i]),
            "the reader's steps alone, 8,000 characters (the query keeps 2,000)": lambda i: steps(engine, pasted[i]),
        },
        repeats,
    )
    for name, values in samples.items():
        report.add(query=name, **percentiles(values))
    on, off = (np.percentile(samples[name], 50) for name in ("keyword only, reader on", "keyword only, reader off"))
    report.notes.append(
        f"Keyword only, the reader adds {on - off:.2f} ms p50 (reader on minus off, queries distinct, turns taken); "
        "the hybrid rows add the CLIP text encoding, whose noise is larger than the step."
    )
    return report


def long_queries(engine: SearchEngine, count: int, seed: int = 3) -> list[str]:
    """`count` distinct product names of the catalog: the longest queries a shopper plausibly types (a name copied
    from elsewhere), every word known, so each is a term matched over every row."""
    names = sorted({name for name in engine.products.frame.productDisplayName if name})
    return random.Random(seed).sample(names, min(count, len(names)))


def hostile_queries(pool: list[str], count: int, words: int, seed: int = 5) -> list[str]:
    """`count` texts of `words` words drawn from the shopper queries, some with typos, cut to 8,000 characters and
    then cleaned as every text query is (TextQuery.parse keeps the first 2,000)."""
    rng = random.Random(seed)
    vocabulary = [word for query in pool for word in query.split()]
    return [TextQuery.parse(" ".join(rng.choices(vocabulary, k=words))[:8_000]).text for _ in range(count)]


def steps(engine: SearchEngine, text: str) -> object:
    """The reader's own work for one text: read it, match its terms, make the keyword side with its tiers."""
    reading = engine.reader.read(text) if engine.reader is not None else None
    if reading is None:
        return None
    match = engine.ranker.match(reading.terms)
    return keyword_side(engine.ranker.keyword_index().scores(reading.searched), match).order()
