"""The brand reading's precision on real product names (not a test: it needs ../shared/data).

The catalog of scripts.check_kagl_protocols (the real labels of 44,434 KAGL products, the real names of the 2,774
that KAGL names) goes through the build's own vocabulary (search.understanding.vocabulary, brands read from the
names as index_build.py reads them); each of the 2,000 distinct names' brand is compared with the hand-checked
brand in scripts/data/kagl-brands.tsv. Prints precision (right among the names given a brand), coverage (names
given a brand) and every wrong or missing one; writes JSON.

    python -m scripts.measure_brands --ground-truth ../shared/data/kagl-ground-truth --out build/brands.json
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from scripts.check_kagl_protocols import kagl_catalog, load_ground_truth
from scripts.common import add_ground_truth_argument, missing_reference_data, write_report
from search.catalog.schema import ID_COLUMN, NAME_COLUMN
from search.understanding.vocabulary import Vocabulary

REFERENCE = Path(__file__).parent / "data" / "kagl-brands.tsv"


def read_reference(path: Path) -> dict[int, str]:
    """KAGL item id → the checked brand of its name."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {int(row["id"]): row["brand"] for row in csv.DictReader(lines, delimiter="\t")}


def measure(ground_truth: Path, reference: dict[int, str]) -> dict[str, Any]:
    """The brands the build reads for each distinct real name, judged against the reference."""
    frame = kagl_catalog(load_ground_truth(ground_truth))
    brands = Vocabulary.build(frame.to_dict("records")).brand_labels()
    read: dict[str, tuple[int, str]] = {}
    for item, name, brand in zip(frame[ID_COLUMN], frame[NAME_COLUMN], brands, strict=True):
        if name and name not in read:
            read[name] = (int(item), brand)
    judged = [(name, brand, reference[item]) for name, (item, brand) in read.items()]
    given = [row for row in judged if row[1]]
    wrong = [row for row in given if row[1] != row[2]]
    return {
        "names": len(judged),
        "given_a_brand": len(given),
        "right": len(given) - len(wrong),
        "precision": (len(given) - len(wrong)) / len(given),
        "coverage": len(given) / len(judged),
        "distinct_brands": len({brand for _, brand, _ in given}),
        "wrong": [{"name": name, "read": brand, "checked": right} for name, brand, right in wrong],
        "missing": [{"name": name, "checked": right} for name, brand, right in judged if not brand],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ground_truth_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("build/brands.json"))
    args = parser.parse_args(argv)
    if missing_reference_data(args.ground_truth):
        return 2
    report = measure(args.ground_truth, read_reference(REFERENCE))
    print(
        f"{report['names']:,} real names: {report['given_a_brand']:,} given a brand (coverage "
        f"{report['coverage']:.3f}), {report['right']:,} right (precision {report['precision']:.3f}), "
        f"{report['distinct_brands']:,} distinct brands."
    )
    for row in report["wrong"]:
        print(f"  wrong:   {row['read']!r} for {row['name']!r} (checked: {row['checked']!r})")
    for row in report["missing"]:
        print(f"  missing: {row['checked']!r} in {row['name']!r}")
    write_report(report, args.out)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
