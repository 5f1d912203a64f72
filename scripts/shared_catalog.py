"""Build a local catalog in the dataset's schema from the real reference data in ../shared/data: the 9,583 real
product photos, their KAGL labels (masterCategory … usage) and, for the 580 that KAGL names, their real names.
For experiments only (the tests never read ../shared). Gender and year are not in that data and stay empty.

    python -m scripts.shared_catalog --data ../shared/data --out build/shared-catalog
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import datasets
import pandas as pd

from scripts.check_kagl_protocols import kagl_catalog, load_ground_truth
from scripts.common import SHARED_DATA, missing_reference_data
from search.catalog.schema import CATALOG_COLUMNS, IMAGE_COLUMN, NAME_COLUMN
from search.fixtures.synthetic import FEATURES

PARQUET_FILE = "train-00000-of-00001.parquet"


def shared_catalog(data: Path) -> datasets.Dataset:
    """One row per photo in `data/product-images`, sorted by id, with the labels and names KAGL publishes."""
    frame = kagl_catalog(load_ground_truth(data / "kagl-ground-truth")).set_index("id", drop=False)
    photos = {int(path.stem): path for path in (data / "product-images").glob("*.jpg")}
    unknown = sorted(set(photos) - set(frame.index))
    if unknown:
        raise ValueError(f"{len(unknown)} photos have no KAGL labels (e.g. {unknown[:5]}).")
    rows = frame.loc[sorted(photos)].reset_index(drop=True)
    rows = rows.astype(object).where(rows.astype("string").fillna("") != "", None)
    rows[IMAGE_COLUMN] = [{"bytes": photos[int(i)].read_bytes(), "path": None} for i in rows["id"]]
    return datasets.Dataset.from_pandas(pd.DataFrame(rows[list(CATALOG_COLUMNS)]), features=FEATURES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=Path("build/shared-catalog"))
    args = parser.parse_args(argv)
    if missing_reference_data(args.data / "product-images", args.data / "kagl-ground-truth"):
        return 2
    catalog = shared_catalog(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    catalog.to_parquet(str(args.out / PARQUET_FILE))
    named = sum(1 for name in catalog[NAME_COLUMN] if name)
    print(f"Wrote {len(catalog):,} products ({named:,} with a real name) to {args.out / PARQUET_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
