"""The Ray build's images/s on one GPU: ViT-B/32 architecture (random weights), generated product photos.

    python -m benchmarks.gpu_ray_build [--products 32768] [--batch-size 256] [--dtype float16]
    python -m benchmarks.gpu_ray_build --device cpu --config clip-tiny --products 256 --batch-size 32 --dtype float32

Runs offline in under 3 minutes on one GPU: saves a random-weight CLIP of search/fixtures/configs/<config>.json,
writes a parquet catalog of generated 60×80 JPEG photos (the dataset's size), starts a local Ray cluster on this
machine and measures, one after the other: the decoding/preprocessing CPU tasks alone, the encoder alone on the
device, and the Ray engine's whole encoding stage (parquet → CPU tasks → encoder actor → resumable shards, after a
warm-up that starts the actor). Prints one table; the second line is the CPU smoke run the tests use.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import sys
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


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=32_768)
    parser.add_argument("--batch-size", type=int, default=256, help="rows per encoder batch on the GPU")
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--files", type=int, default=16, help="parquet shards of the generated catalog")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--config", default="clip-vit-b32", help="model architecture in search/fixtures/configs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import ray
    import torch

    from search.fixtures.random_model import save_random_clip
    from search.indexing.ray_runner import (
        RowLookup,
        catalog_dataset,
        connect,
        encode_catalog_ray,
        on_cluster,
        preprocess_batch,
    )
    from search.indexing.shards import ShardCache
    from search.indexing.spec import EncoderSpec

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("No CUDA device: this benchmark measures the Ray build on one GPU (--device cpu: smoke run).")
    synchronize = torch.cuda.synchronize if args.device == "cuda" else lambda: None
    work = Path(tempfile.mkdtemp(prefix="gpu-ray-build-"))
    started = time.perf_counter()
    model = save_random_clip(args.config, work / "model")
    files = write_catalog(work / "catalog", args.products, args.files)
    setup_s = time.perf_counter() - started
    logger.info("Model and %d photos ready in %.1fs", args.products, setup_s)

    connect(None)
    spec = on_cluster(EncoderSpec(str(model), None, args.device, args.dtype, None, False, args.batch_size, True))
    ids = np.arange(args.products, dtype=np.int64)
    everything = RowLookup(ids, ids)

    # 1. Decoding + preprocessing alone: the CPU tasks of the pipeline, every core of this machine (a first pass
    # over one file starts the worker processes and loads the image processor in each).
    def decode(paths: list[str]) -> int:
        decoded = catalog_dataset((paths, None), None).map_batches(
            preprocess_batch,  # type: ignore[arg-type]  # fn_kwargs give its other arguments
            batch_format="pyarrow",
            fn_kwargs={"spec": spec, "lookup": everything},
            num_cpus=1,
        )
        return sum(len(batch["row"]) for batch in decoded.iter_batches(batch_size=None, batch_format="numpy"))

    decode(files[:1])
    begun = time.perf_counter()
    decode_count = decode(files)
    decode_s = time.perf_counter() - begun

    # 2. The encoder alone on the GPU, preprocessed pixels and product names already in memory.
    encoder = spec.load()
    side = encoder.preprocess([Image.new("RGB", (60, 80))]).shape[-1]
    pixels = torch.rand(args.batch_size, 3, side, side)
    names = [f"Generated product {i}" for i in range(args.batch_size)]
    encoder.encode_pixels(pixels), encoder.encode_text(names)
    synchronize()
    begun = time.perf_counter()
    batches = max(4, 4096 // args.batch_size)
    for _ in range(batches):
        encoder.encode_pixels(pixels), encoder.encode_text(names)
    synchronize()
    encode_s = time.perf_counter() - begun
    del encoder

    # 3. The Ray build's encoding stage end to end, after a warm-up that starts the actor and loads its model.
    warm = ShardCache(work / "warm", {"warm": True}, ids[: 2 * args.batch_size], args.batch_size)
    warm_rows = warm.encoded_rows
    encode_catalog_ray(
        warm, catalog_dataset((files[:1], None), None), RowLookup(warm_rows, warm_rows), spec, defaultdict(float)
    )
    cache = ShardCache(work / "cache", {"products": args.products}, ids, 4096)
    timings: dict[str, float] = defaultdict(float)
    begun = time.perf_counter()
    encode_catalog_ray(cache, catalog_dataset((files, None), None), everything, spec, timings)
    wall = time.perf_counter() - begun
    resources = ray.cluster_resources()
    rows = [
        ("device", torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"),
        ("cluster", f"{int(resources.get('CPU', 0))} CPUs, {int(resources.get('GPU', 0))} GPU (local Ray)"),
        ("model", f"{args.config} (random weights, {side} px), {args.dtype}, batch {args.batch_size}"),
        ("photos", f"{args.products:,} generated {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} JPEG in {args.files} parquet files"),
        ("Ray build, encoding stage: images/s", rate(args.products, wall)),
        ("decode + preprocess alone (CPU tasks): images/s", rate(decode_count, decode_s)),
        ("encoder alone (image + name, GPU): images/s", rate(batches * args.batch_size, encode_s)),
        ("wall s of the encoding stage", f"{wall:.1f}"),
        ("shard writes on the driver, s", f"{timings['write']:.2f}"),
        ("set-up s (model + photos, not counted)", f"{setup_s:.1f}"),
        ("torch / python / ray", f"{torch.__version__} / {sys.version.split()[0]} / {ray.__version__}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\n| {'what'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    print("\nThe smaller of the two 'alone' rates bounds the stage; the stage's own rate shows what Ray adds on top.")
    ray.shutdown()


if __name__ == "__main__":
    main()
