"""How many catalog photos are (near) copies of each other, and how close their stored vectors are.

A development measurement (not a test: it needs ../shared/data/product-images, the 9,583 real catalog photos).

1. Model-free: photos with identical bytes, identical decoded pixels, and other pairs whose 32×32 thumbnails
   differ by a small RMS (0–255 scale) — below ~3 the same picture re-encoded; above, different products that
   look alike (a belt in two shades, but also two different white shirts), so pixels cannot draw the line.
2. Per model (random-weight CLIPs here, any local model folder elsewhere): the cosine of the stored image vectors
   for each kind of pair — identical pixels, near copies, look-alikes, and each photo's nearest other photo —
   which is what the collapse threshold (search.ranking.duplicates) is compared with.

    python -m scripts.measure_duplicates --photos ../shared/data/product-images --models clip-tiny clip-vit-b32
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from scripts.common import SHARED_PHOTOS, model_folder, write_report
from search.encoding.encoder import Encoder
from search.fixtures.random_model import CONFIG_DIR

logger = logging.getLogger("measure_duplicates")

THUMBNAIL = (32, 32)
# Thumbnail RMS bands (0–255) for pairs whose pixels differ: near copy (same picture re-encoded), look-alike.
BANDS = {"near copy": (0.0, 3.0), "look-alike": (3.0, 8.0)}
PERCENTILES = (0, 1, 5, 50, 95, 99, 100)


def hash_groups(paths: list[Path]) -> tuple[dict[str, list[str]], dict[str, list[str]], np.ndarray]:
    """Groups of ids with identical file bytes and with identical decoded pixels, and the photos' thumbnails."""
    by_bytes, by_pixels = defaultdict(list), defaultdict(list)
    thumbnails = []
    for path in tqdm(paths, desc="hash photos"):
        data = path.read_bytes()
        image = Image.open(path).convert("RGB")
        by_bytes[hashlib.sha256(data).hexdigest()].append(path.stem)
        by_pixels[hashlib.sha256(image.tobytes()).hexdigest()].append(path.stem)
        thumbnails.append(np.asarray(image.resize(THUMBNAIL, Image.Resampling.BILINEAR), dtype=np.float32).ravel())
    duplicates = {
        name: {h: ids for h, ids in groups.items() if len(ids) > 1}
        for name, groups in (("bytes", by_bytes), ("pixels", by_pixels))
    }
    return duplicates["bytes"], duplicates["pixels"], np.stack(thumbnails)


def rms_distances(thumbnails: np.ndarray) -> np.ndarray:
    """RMS pixel difference of every pair of thumbnails (diagonal = inf)."""
    squares = (thumbnails**2).sum(1)
    distances = squares[:, None] + squares[None, :] - 2.0 * thumbnails @ thumbnails.T
    distances = np.sqrt(np.maximum(distances, 0.0) / thumbnails.shape[1])
    np.fill_diagonal(distances, np.inf)
    return distances


def pairs_in_band(distances: np.ndarray, low: float, high: float) -> np.ndarray:
    """(i, j) with i < j whose distance lies in [low, high) (identical photos: distance set to -1, never in)."""
    upper = np.triu(np.ones_like(distances, dtype=bool), 1)
    return np.argwhere(upper & (distances >= low) & (distances < high))


def identical_pairs(groups: dict[str, list[str]], ids: list[str]) -> np.ndarray:
    """(i, j) positions of every pair of photos within one identical-pixels group."""
    position = {name: number for number, name in enumerate(ids)}
    pairs = [
        (position[a], position[b])
        for members in groups.values()
        for n, a in enumerate(members)
        for b in members[n + 1 :]
    ]
    return np.array(pairs, dtype=int).reshape(-1, 2)


def encode(encoder: Encoder, paths: list[Path], batch: int = 32) -> np.ndarray:
    vectors = []
    for start in tqdm(range(0, len(paths), batch), desc=f"encode with {encoder.ref.name}"):
        vectors.append(encoder.encode_images([Image.open(p).convert("RGB") for p in paths[start : start + batch]]))
    return np.concatenate(vectors)


def percentiles(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES} | {"n": len(values)}


def model_cosines(
    model: str, paths: list[Path], distances: np.ndarray, identical: np.ndarray, sample: int, seed: int
) -> dict[str, Any]:
    """Cosine of the image vectors per kind of pair, on the photos in a band plus a random sample."""
    bands = {"identical pixels": identical} | {
        name: pairs_in_band(distances, *limits) for name, limits in BANDS.items()
    }
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(len(paths), size=min(sample, len(paths)), replace=False).tolist())
    for pairs in bands.values():
        chosen.update(pairs.ravel().tolist())
    rows = np.array(sorted(chosen))
    with tempfile.TemporaryDirectory() as folder:
        encoder = Encoder.load(str(model_folder(model, Path(folder))), device="cpu")
        vectors = np.zeros((len(paths), encoder.dim), dtype=np.float32)
        vectors[rows] = encode(encoder, [paths[row] for row in rows])
    result = {name: percentiles(np.einsum("ij,ij->i", vectors[p[:, 0]], vectors[p[:, 1]])) for name, p in bands.items()}
    sampled = np.array(sorted(chosen - {int(i) for p in bands.values() for i in p.ravel()}))
    similarity = vectors[sampled] @ vectors[sampled].T
    np.fill_diagonal(similarity, -np.inf)
    result["nearest other sampled photo (no band pair)"] = percentiles(similarity.max(1))
    upper = np.triu_indices(len(sampled), 1)
    result["random pair of sampled photos"] = percentiles(similarity[upper])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=SHARED_PHOTOS)
    parser.add_argument("--models", nargs="*", default=["clip-tiny"], help="random config names or model folders")
    parser.add_argument("--sample", type=int, default=1000, help="photos sampled besides those in a band")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("build/duplicates.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    paths = sorted(args.photos.glob("*.jpg"))
    if not paths:
        print(f"No photos (*.jpg) in {args.photos}", file=sys.stderr)
        return 2
    by_bytes, by_pixels, thumbnails = hash_groups(paths)
    distances = rms_distances(thumbnails)
    identical = identical_pairs(by_pixels, [path.stem for path in paths])
    distances[identical[:, 0], identical[:, 1]] = distances[identical[:, 1], identical[:, 0]] = -1.0
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "load": os.getloadavg()},
        "photos": len(paths),
        "identical bytes": {"groups": len(by_bytes), "photos": sum(map(len, by_bytes.values()))},
        "identical pixels": {"groups": len(by_pixels), "photos": sum(map(len, by_pixels.values()))},
        "pairs of identical photos": len(identical),
        "other pairs by thumbnail RMS": {
            f"< {t}": len(pairs_in_band(distances, 0.0, t)) for t in (1, 2, 3, 4, 6, 8, 12)
        },
        "nearest other photo RMS (identical excluded)": percentiles(np.where(distances < 0, np.inf, distances).min(1)),
        "bands": {name: len(pairs_in_band(distances, *limits)) for name, limits in BANDS.items()},
        "models": {},
    }
    for model in args.models:
        if not Path(model).is_dir() and not (CONFIG_DIR / f"{model}.json").is_file():
            print(f"Unknown model '{model}': give a model folder or a config in {CONFIG_DIR}", file=sys.stderr)
            return 2
        report["models"][model] = model_cosines(model, paths, distances, identical, args.sample, args.seed)
    write_report(report, args.out, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
