"""Build an index bundle of the REAL reference products for measurements (docs/EVALUATION.md's shopper queries):
the real photos, KAGL labels and real names in ../shared/data (scripts.shared_catalog), written as a local parquet
catalog in the dataset's schema and built by index_build.py's own entry point. Maintainers only: the reference data
is not part of the repository (the demo in assets/demo is what ships).

No model weights can be downloaded here, so the model is a random-weight CLIP of a given architecture
(search/fixtures/configs; ViT-B/32 by default, the architecture of patrickjohncyh/fashion-clip); the trained small
CLIP is indexed from the written catalog with `index_build.py --dataset OUT/catalog --model assets/demo/small-clip`.

    python -m scripts.make_real_bundle --data ../shared/data --all --out build/real-all

By default the catalog holds the products that KAGL names (their real names; 580 of the 9,583 photos); --all keeps
every photo (the others have labels but no name). The data has no gender: it is read from the real name where the
name says it ("Puma Men …", "ADIDAS Women's …").
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import datasets

from scripts.common import SHARED_DATA, missing_reference_data
from scripts.shared_catalog import PARQUET_FILE, shared_catalog
from search.catalog.schema import NAME_COLUMN
from search.fixtures.random_model import save_random_clip

INDEX_BUILD = Path(__file__).resolve().parents[1] / "index_build.py"
GENDER_IN_NAME = re.compile(r"\b(Men|Women|Boys|Girls|Unisex)\b")
MODELS = ("clip-vit-b32", "clip-tiny")


def gender_from_name(name: str | None) -> str | None:
    """The gender a real product name states ("Nike Women's …" → "Women"), or None."""
    found = GENDER_IN_NAME.search(name or "")
    return found.group(1) if found else None


def real_catalog(data: Path, everything: bool = False) -> datasets.Dataset:
    """The catalog of the real photos: the named products only unless `everything`, gender read from the names."""
    catalog = shared_catalog(data)
    if not everything:
        catalog = catalog.filter(bool, input_columns=[NAME_COLUMN])
    return catalog.map(lambda name: {"gender": gender_from_name(name)}, input_columns=[NAME_COLUMN])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=Path("build/real-bundle"))
    parser.add_argument("--model", choices=MODELS, default=MODELS[0], help="random-weight architecture")
    parser.add_argument("--all", action="store_true", help="every photo, not only the products KAGL names")
    args = parser.parse_args(argv)
    if missing_reference_data(args.data / "product-images", args.data / "kagl-ground-truth"):
        return 2
    out = args.out.resolve()
    catalog = real_catalog(args.data, args.all)
    (out / "catalog").mkdir(parents=True, exist_ok=True)
    catalog.to_parquet(str(out / "catalog" / PARQUET_FILE))
    model = save_random_clip(args.model, out / f"{args.model}-random")
    print(f"Catalog: {len(catalog):,} real products; model: random-weight {args.model} in {model}")
    build = ["--dataset", str(out / "catalog"), "--model", str(model), "--out", str(out / "bundle")]
    # The CLI as a user runs it (entry points are imported by nothing but tests: docs/ARCHITECTURE.md).
    return subprocess.run([sys.executable, str(INDEX_BUILD), *build, "--num-workers", "0"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
