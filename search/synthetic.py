"""Generated catalogs in the exact schema of ashraq/fashion-product-images-small, drawn with PIL.

Used where the real dataset cannot be downloaded: offline tests, benchmarks and the demo assets. Each article
type has its own silhouette and each colour its own fill, so image similarity has something to find.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import datasets
from PIL import Image, ImageDraw

COLOURS = {
    "Black": (20, 20, 20),
    "White": (245, 245, 245),
    "Blue": (30, 80, 200),
    "Red": (200, 30, 40),
    "Green": (40, 150, 60),
    "Yellow": (235, 200, 30),
    "Pink": (240, 130, 170),
    "Navy Blue": (20, 30, 90),
    "Grey": (128, 128, 128),
    "Brown": (120, 70, 30),
    "Beige": (220, 200, 160),
    "Purple": (120, 50, 150),
}
# (masterCategory, subCategory, articleType, silhouette)
TAXONOMY = (
    ("Apparel", "Topwear", "Tshirts", "tshirt"),
    ("Apparel", "Topwear", "Shirts", "shirt"),
    ("Apparel", "Bottomwear", "Jeans", "trousers"),
    ("Apparel", "Dress", "Dresses", "dress"),
    ("Footwear", "Shoes", "Casual Shoes", "shoe"),
    ("Footwear", "Shoes", "Boots", "boot"),
    ("Accessories", "Watches", "Watches", "watch"),
    ("Accessories", "Bags", "Handbags", "bag"),
)
GENDERS = ("Men", "Women", "Boys", "Girls", "Unisex")
SEASONS = ("Summer", "Winter", "Fall", "Spring")
USAGES = ("Casual", "Formal", "Sports", "Ethnic", "Party")
BRANDS = ("Nike", "Puma", "Roadster", "Wrangler", "Fossil", "Catwalk", "Arrow", "Levis")
STYLES = ("Solid", "Printed", "Striped", "Slim Fit", "Classic", "Leather", "Cotton", "Round Neck")
IMAGE_SIZE = (60, 80)

FEATURES = datasets.Features(
    {
        "id": datasets.Value("int64"),
        "gender": datasets.Value("string"),
        "masterCategory": datasets.Value("string"),
        "subCategory": datasets.Value("string"),
        "articleType": datasets.Value("string"),
        "baseColour": datasets.Value("string"),
        "season": datasets.Value("string"),
        "year": datasets.Value("float64"),
        "usage": datasets.Value("string"),
        "productDisplayName": datasets.Value("string"),
        "image": datasets.Image(),
    }
)


def _silhouette(draw: ImageDraw.ImageDraw, shape: str, colour: tuple[int, int, int], jitter: int) -> None:
    j = jitter
    if shape in ("tshirt", "shirt"):
        draw.polygon(
            [(10, 15 + j), (22, 8), (38, 8), (50, 15 + j), (46, 28), (42, 26), (42, 70), (18, 70), (18, 26), (14, 28)],
            fill=colour,
        )
        if shape == "shirt":
            draw.line([(30, 10), (30, 70)], fill=(250, 250, 250), width=1)
    elif shape == "trousers":
        draw.polygon([(16, 6), (44, 6), (48 + j, 74), (33, 74), (30, 30), (27, 74), (12 - j, 74)], fill=colour)
    elif shape == "dress":
        draw.polygon([(24, 6), (36, 6), (38, 24), (52 + j, 74), (8 - j, 74), (22, 24)], fill=colour)
    elif shape == "shoe":
        draw.polygon([(6, 50), (30 + j, 44), (54, 54), (54, 62), (6, 62)], fill=colour)
    elif shape == "boot":
        draw.polygon([(14, 14), (32, 14), (32, 50), (52 + j, 56), (52, 66), (14, 66)], fill=colour)
    elif shape == "watch":
        draw.rectangle([(25, 4), (35, 76)], fill=(60, 60, 60))
        draw.ellipse([(16 - j, 26), (44 + j, 54)], fill=colour, outline=(30, 30, 30))
    elif shape == "bag":
        draw.arc([(18, 8), (42, 36)], 180, 360, fill=(40, 40, 40), width=3)
        draw.rectangle([(8 - j, 22), (52 + j, 70)], fill=colour)


def product_photo(shape: str, colour: tuple[int, int, int], jitter: int = 0) -> Image.Image:
    """A 60×80 product-style photo: the silhouette in its colour on a white background."""
    image = Image.new("RGB", IMAGE_SIZE, (255, 255, 255))
    _silhouette(ImageDraw.Draw(image), shape, colour, jitter)
    return image


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def generate_rows(count: int, seed: int = 0) -> list[dict]:
    """`count` products with labels, names and JPEG images; some metadata left missing like the real data."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        master, sub, article, shape = TAXONOMY[number % len(TAXONOMY)]
        colour_name = rng.choice(list(COLOURS))
        gender = rng.choice(GENDERS)
        brand, style = rng.choice(BRANDS), rng.choice(STYLES)
        rows.append(
            {
                "id": 10_000 + number,
                "gender": gender,
                "masterCategory": master,
                "subCategory": sub,
                "articleType": article,
                "baseColour": colour_name,
                "season": rng.choice(SEASONS) if rng.random() > 0.05 else None,
                "year": float(rng.randint(2010, 2018)) if rng.random() > 0.05 else None,
                "usage": rng.choice(USAGES) if rng.random() > 0.05 else None,
                "productDisplayName": f"{brand} {gender} {colour_name} {style} {article}"
                if rng.random() > 0.02
                else None,
                "image": {
                    "bytes": jpeg_bytes(product_photo(shape, COLOURS[colour_name], rng.randint(-3, 3))),
                    "path": None,
                },
            }
        )
    return rows


def generate_catalog(count: int, seed: int = 0) -> datasets.Dataset:
    """A `datasets.Dataset` with the real dataset's features."""
    return datasets.Dataset.from_list(generate_rows(count, seed), features=FEATURES)


def save_catalog(count: int, folder: Path | str, seed: int = 0, as_parquet: bool = False) -> Path:
    """Write a generated catalog as `save_to_disk` output, or as a parquet file inside `folder`."""
    folder = Path(folder)
    catalog = generate_catalog(count, seed)
    if as_parquet:
        folder.mkdir(parents=True, exist_ok=True)
        catalog.to_parquet(str(folder / "train-00000-of-00001.parquet"))
    else:
        catalog.save_to_disk(str(folder))
    return folder
