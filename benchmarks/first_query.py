"""Child process of the cold-start benchmark: import, load a bundle, answer one text query, print one JSON line.

Only the standard library is imported before the clock starts, so import_s is the real import cost.

    python -m benchmarks.first_query BUNDLE
"""

import json
import sys
import time
from pathlib import Path

FIRST_QUERY = "black leather boots for men"


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over from the parent that
    forked us, so a child of a big benchmark process would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("/proc/self/status has no VmHWM line (not Linux?)")


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
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
