"""Make the demo catalog that ships in assets/demo/: the products of the Kaggle "Fashion Product Images" catalog that
KAGL names (580 in ../shared/data), with their real photos, names and labels, in the exact schema of
ashraq/fashion-product-images-small, plus a few of their photos as files for the README's examples.

    python -m scripts.make_demo_catalog --data ../shared/data --out assets/demo

Run by maintainers only: the app, the README and the tests read what it wrote into assets/demo/, never ../shared.
The data has no gender column: it is read from the real name where the name says it ("Puma Men …", "ADIDAS
Women's …"); the year is not in the data and stays empty. Rerunning it writes the same bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from scripts.shared_catalog import PARQUET_FILE, shared_catalog
from search.catalog.schema import ID_COLUMN, IMAGE_COLUMN, NAME_COLUMN

GENDER_IN_NAME = re.compile(r"\b(Men|Women|Boys|Girls|Unisex)\b")
# The README's example photos: file name → product id (a blue shirt, black heels, a purple handbag).
EXAMPLE_PHOTOS = {"shirt.jpg": 10369, "heels.jpg": 14361, "handbag.jpg": 19945}


def gender_from_name(name: str | None) -> str | None:
    """The gender a real product name states ("Nike Women's …" → "Women"), or None."""
    found = GENDER_IN_NAME.search(name or "")
    return found.group(1) if found else None


def named_catalog(data: Path) -> datasets.Dataset:
    """The products of the reference data that have a real name, gender read from the name."""
    catalog = shared_catalog(data).filter(bool, input_columns=[NAME_COLUMN])
    return catalog.map(lambda name: {"gender": gender_from_name(name)}, input_columns=[NAME_COLUMN])


def write_demo(catalog: datasets.Dataset, out: Path, photos: dict[str, int]) -> Path:
    """The catalog as one parquet file under out/catalog/ and the chosen products' photos as out/photos/<name>."""
    undecoded = catalog.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))
    images = dict(zip(undecoded[ID_COLUMN], undecoded[IMAGE_COLUMN], strict=True))
    missing = sorted(product_id for product_id in photos.values() if product_id not in images)
    if missing:
        raise ValueError(f"No named product with id {', '.join(map(str, missing))} for the example photos.")
    (out / "catalog").mkdir(parents=True, exist_ok=True)
    (out / "photos").mkdir(parents=True, exist_ok=True)
    pq.write_table(catalog.flatten_indices().data.table, out / "catalog" / PARQUET_FILE)
    for name, product_id in photos.items():
        (out / "photos" / name).write_bytes(images[product_id]["bytes"])
    return out / "catalog" / PARQUET_FILE


def parse_photo(text: str) -> tuple[str, int]:
    name, _, product_id = text.partition("=")
    if not name.endswith(".jpg") or not product_id.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME.jpg=PRODUCT_ID, got '{text}'")
    return name, int(product_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the real reference data")
    parser.add_argument("--out", type=Path, default=Path("assets/demo"))
    parser.add_argument(
        "--photo",
        type=parse_photo,
        action="append",
        metavar="NAME.jpg=ID",
        help="an example photo to write (default: " + ", ".join(f"{n}={i}" for n, i in EXAMPLE_PHOTOS.items()) + ")",
    )
    args = parser.parse_args(argv)
    if not (args.data / "product-images").is_dir() or not (args.data / "kagl-ground-truth").is_dir():
        print(
            f"{args.data} lacks product-images/ or kagl-ground-truth/: this script copies the project's real "
            "reference data (not part of the repository; give its folder with --data). The demo catalog it made "
            "already ships in assets/demo/.",
            file=sys.stderr,
        )
        return 2
    catalog = named_catalog(args.data)
    try:
        written = write_demo(catalog, args.out, dict(args.photo) if args.photo else EXAMPLE_PHOTOS)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Wrote {len(catalog):,} real products to {written} ({written.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
