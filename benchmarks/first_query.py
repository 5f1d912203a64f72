"""Child process of the cold-start benchmark: import, load a bundle, answer one text query, print one JSON line.

Only the standard library is imported before the clock starts, so import_s is the real import cost.

    python -m benchmarks.first_query BUNDLE
"""

import json
import resource
import sys
import time

FIRST_QUERY = "black leather boots for men"


def main(bundle: str) -> None:
    started = time.perf_counter()
    from search.engine import SearchEngine

    imported = time.perf_counter()
    engine = SearchEngine.load(bundle)
    loaded = time.perf_counter()
    engine.search_text(FIRST_QUERY)
    answered = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(imported - started, 2),
                "load_s": round(loaded - imported, 2),
                "first_query_ms": round((answered - loaded) * 1000, 1),
                "total_s": round(answered - started, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
