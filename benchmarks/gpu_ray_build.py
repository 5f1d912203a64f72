"""The Ray build's images/s on one GPU: ViT-B/32 architecture (random weights), generated product photos.

    python -m benchmarks.gpu_ray_build [--products 16384] [--batch-size 256] [--dtype float16]

Runs offline in under 3 minutes on one GPU: saves a random-weight CLIP of search/configs/clip-vit-b32.json,
writes a parquet catalog of generated 60×80 JPEG photos (the dataset's size), starts a local Ray cluster on this
machine and runs the Ray engine's encoding stage (parquet read → decode/preprocess CPU tasks → one encoder actor
on the GPU → resumable shards). Prints one table: images/s of the stage after the actor has loaded its model,
and how long the encoder actor and the decode tasks were busy, which tells what bounds it.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

logger = logging.getLogger("gpu_ray_build")

PHOTO_SIZE = (60, 80)
CONFIG = "clip-vit-b32"


def photo_jpeg(rng: random.Random) -> bytes:
    """A product-like 60×80 JPEG: a coloured silhouette on white (decoding cost of a real catalog photo)."""
    image = Image.new("RGB", PHOTO_SIZE, "white")
    colour = tuple(rng.randrange(256) for _ in range(3))
    left, top = rng.randrange(4, 20), rng.randrange(4, 20)
    ImageDraw.Draw(image).polygon([(left, top), (56, top + 6), (50, 76), (left + 4, 70)], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_catalog(folder: Path, products: int, files: int) -> list[str]:
    """Parquet shards in the dataset's schema (only the columns the build reads are filled in)."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    per_file = -(-products // files)
    for number, start in enumerate(range(0, products, per_file)):
        ids = list(range(start, min(start + per_file, products)))
        table = pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "gender": ["Men"] * len(ids),
                "baseColour": ["Blue"] * len(ids),
                "articleType": ["Tshirts"] * len(ids),
                "productDisplayName": [f"Generated product {i}" for i in ids],
                "image": [{"bytes": photo_jpeg(rng), "path": None} for _ in ids],
            }
        )
        path = folder / f"train-{number:05d}-of-{files:05d}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=16_384)
    parser.add_argument("--batch-size", type=int, default=256, help="rows per encoder batch on the GPU")
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--files", type=int, default=16, help="parquet shards of the generated catalog")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import ray
    import torch

    from search.build.ray_runner import RowLookup, catalog_dataset, connect, encode_catalog_ray, encoder_spec
    from search.build.shards import ShardCache
    from search.fixtures.random_model import save_random_clip

    if not torch.cuda.is_available():
        raise SystemExit("No CUDA device: this benchmark measures the Ray build on one GPU.")
    work = Path(tempfile.mkdtemp(prefix="gpu-ray-build-"))
    started = time.perf_counter()
    model = save_random_clip(CONFIG, work / "model")
    files = write_catalog(work / "catalog", args.products, args.files)
    setup_s = time.perf_counter() - started
    logger.info("Model and %d photos ready in %.1fs", args.products, setup_s)

    connect(None)
    spec = encoder_spec(str(model), None, "cuda", args.dtype, False, args.batch_size)
    ids = np.arange(args.products, dtype=np.int64)
    timings: dict[str, float] = defaultdict(float)
    # Warm-up on a small catalog: actor start-up and model load are paid once per build, not per image.
    warm = ShardCache(work / "warm", {"warm": True}, 2 * args.batch_size, args.batch_size)
    warm_rows = ids[: warm.num_rows]
    encode_catalog_ray(
        warm, catalog_dataset((files[:1], None), None), RowLookup(warm_rows, warm_rows), spec, defaultdict(float)
    )
    cache = ShardCache(work / "cache", {"products": args.products}, args.products, 4096)
    begun = time.perf_counter()
    encode_catalog_ray(cache, catalog_dataset((files, None), None), RowLookup(ids, ids), spec, timings)
    wall = time.perf_counter() - begun
    resources = ray.cluster_resources()
    rows = [
        ("device", torch.cuda.get_device_name(0)),
        ("cluster", f"{int(resources.get('CPU', 0))} CPUs, {int(resources.get('GPU', 0))} GPU (local Ray)"),
        ("model", f"{CONFIG} (random weights), {args.dtype}, batch {args.batch_size}"),
        ("photos", f"{args.products:,} generated {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} JPEG in {args.files} parquet files"),
        ("wall s (encoding stage)", f"{wall:.1f}"),
        ("images/s", f"{args.products / wall:,.0f}"),
        ("shard writes s (driver)", f"{timings['write']:.2f}"),
        ("set-up s (model + photos, not counted)", f"{setup_s:.1f}"),
        ("torch / python", f"{torch.__version__} / {os.sys.version.split()[0]}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\n| {'what'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    ray.shutdown()


if __name__ == "__main__":
    main()
