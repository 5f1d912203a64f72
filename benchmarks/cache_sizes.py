"""What the engine's caches hold at 44k and at a million products: bytes per entry, and the entries and bytes each
cache keeps once a client has filled it with distinct queries and filter combinations.

    python -m benchmarks.cache_sizes                  # 44,000 and 1,000,000 products
    python -m benchmarks.cache_sizes --sizes 44000

Each catalog is a synthetic bundle without photos (benchmarks.fixtures.synthetic_bundle, random-weight tiny CLIP:
a cached result holds the product's metadata, whatever the model). For each cache the run sends distinct
requests until the cache stops growing, then reports the bytes the cache counts (search.caches) and the server's
resident memory growth over the fill, which checks that count. "Before" is what the old entry-count bounds
allowed: 512 result lists, 256 selectors.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from pathlib import Path

import psutil

from benchmarks.common import Report, machine
from benchmarks.fixtures import model_folder, synthetic_bundle
from search.engine import SearchEngine
from search.ranking.filters import normalise_filters

logger = logging.getLogger("benchmarks.cache_sizes")

OLD_RESULT_ENTRIES = 512
OLD_SELECTOR_ENTRIES = 256
WORDS = ["red", "blue", "black", "white", "shirt", "jeans", "dress", "boots", "watch", "summer", "casual", "men"]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def fill_results(engine: SearchEngine, k: int, collapse: bool) -> dict[str, float]:
    """Distinct text searches until the result cache stops growing."""
    engine.clear_caches()
    before = rss_mb()
    texts = (" ".join(words) for words in itertools.permutations(WORDS, 4))
    last = -1
    for number, text in enumerate(texts):
        engine.search_text(text, k=k, collapse_similar=collapse)
        info = engine.cache_info()["text_searches"]
        if number % 50 == 49:
            if info["currsize"] == last:
                break
            last = info["currsize"]
    info = engine.cache_info()["text_searches"]
    return _row(info, rss_mb() - before, OLD_RESULT_ENTRIES)


def fill_selectors(engine: SearchEngine) -> dict[str, float]:
    """Distinct filter combinations (colour × article type × gender × season) until the selector cache stops
    growing."""
    compiler = engine.filters
    before = rss_mb()
    fields = ("baseColour", "articleType", "gender", "season")
    last = -1
    for number, values in enumerate(itertools.product(*(compiler.choices(name) for name in fields))):
        compiler.selector(normalise_filters(dict(zip(fields, values, strict=True))))
        if number % 50 == 49:
            if compiler.cache_info()["currsize"] == last:
                break
            last = compiler.cache_info()["currsize"]
    return _row(compiler.cache_info(), rss_mb() - before, OLD_SELECTOR_ENTRIES)


def _row(info: dict[str, int], growth_mb: float, old_entries: int) -> dict[str, float]:
    per_entry = info["bytes"] / max(info["currsize"], 1)
    return {
        "KB per entry": round(per_entry / 1024, 1),
        "entries kept": info["currsize"],
        "MB counted": round(info["bytes"] / 2**20, 1),
        "budget MB": round(info["max_bytes"] / 2**20),
        "RSS growth MB": round(growth_mb, 1),
        "before: old bound MB": round(old_entries * per_entry / 2**20, 1),
    }


def measure(sizes: list[int], work: Path) -> Report:
    report = Report(
        "cache_sizes",
        "Engine caches filled by one client: bytes per entry, what is kept, what the old entry bounds allowed",
        [
            "products",
            "cache",
            "KB per entry",
            "entries kept",
            "MB counted",
            "budget MB",
            "RSS growth MB",
            "before: old bound MB",
        ],
        settings={"machine": machine()},
    )
    model = model_folder("clip-tiny", work)
    for size in sizes:
        bundle = synthetic_bundle(work / f"bundle-clip-tiny-{size}-no-photos", model, size, photos=False)
        engine = SearchEngine.load(bundle)
        rows = {
            "text results, k=24": fill_results(engine, 24, False),
            "text results, k=100, collapse_similar": fill_results(engine, 100, True),
            "filter selectors": fill_selectors(engine),
        }
        for name, row in rows.items():
            report.add(products=size, cache=name, **row)
            logger.info("%d products, %s: %s", size, name, row)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[44_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    report = measure(args.sizes, args.out / "work")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cache_sizes.json").write_text(json.dumps(report.to_dict(), indent=2))
    print(report.table())


if __name__ == "__main__":
    main()
