"""Images/s of the index build's image pipeline on a GPU, per stage, and which stage bounds it.

    python benchmarks/gpu_build.py                      # CUDA, ViT-B/32 architecture (random weights), ~2 min
    python benchmarks/gpu_build.py --json OUT.json      # also write the table as JSON
    python benchmarks/gpu_build.py --quick --device cpu # smoke run: tiny model, few images (the tests run this)

Self-contained on purpose (a GPU machine may have only torch, transformers, numpy and pillow): it imports nothing
from this repository and rebuilds what `index_build.py` does per product: JPEG bytes as stored in the catalog
(60×80 generated product photos) → decode (PIL) → CLIP image preprocessing (the PIL image processor, resize to
224 and normalise) in DataLoader worker processes, batched → pinned host memory → GPU → fp16 image tower → L2
normalised float32 vectors back on the host. Each stage is also timed alone, so the table says which one bounds
the whole: the encoder, or the CPU workers that decode and preprocess.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader, Dataset
from transformers import CLIPConfig, CLIPModel

CONFIG = Path(__file__).resolve().parents[1] / "search" / "fixtures" / "configs"
PHOTO_SIZE = (60, 80)  # the catalog's photos (ashraq/fashion-product-images-small)


def image_processor_class() -> type:
    """The PIL CLIP image processor the project uses (transformers 5 names it CLIPImageProcessorPil)."""
    return getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor


def load_spec(name: str) -> dict[str, Any]:
    return json.loads((CONFIG / f"{name}.json").read_text())


def random_clip(spec: dict[str, Any], device: str, dtype: torch.dtype) -> CLIPModel:
    """The config's architecture with random weights, created on the device (speed does not depend on weights)."""
    config = CLIPConfig(
        text_config={**spec["text_config"], "vocab_size": 49408},
        vision_config=spec["vision_config"],
        projection_dim=spec["projection_dim"],
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = CLIPModel(config)
    return model.to(dtype).eval()  # type: ignore[arg-type]  # transformers' decorator hides `to`'s signature


def product_photos(count: int, seed: int = 0) -> list[bytes]:
    """`count` distinct 60×80 JPEG product-style photos (a coloured garment shape on white)."""
    rng = random.Random(seed)
    photos = []
    for _ in range(count):
        image = Image.new("RGB", PHOTO_SIZE, (255, 255, 255))
        draw = ImageDraw.Draw(image)
        colour = tuple(rng.randrange(256) for _ in range(3))
        left, top = rng.randint(5, 15), rng.randint(5, 20)
        draw.rectangle([left, top, PHOTO_SIZE[0] - left, PHOTO_SIZE[1] - rng.randint(5, 20)], fill=colour)
        draw.ellipse([left + 5, top - 5, PHOTO_SIZE[0] - left - 5, top + 10], fill=colour)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        photos.append(buffer.getvalue())
    return photos


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


class PhotoBatches(Dataset):
    """Decode and preprocess a whole batch per worker call, as the build's reader does (`__getitems__`)."""

    def __init__(self, photos: list[bytes], processor: Any) -> None:
        self.photos = photos
        self.processor = processor

    def __len__(self) -> int:
        return len(self.photos)

    def __getitems__(self, positions: list[int]) -> torch.Tensor:
        images = [decode(self.photos[position]) for position in positions]
        return self.processor(images=images, return_tensors="pt")["pixel_values"]


def whole_batch(batch: torch.Tensor) -> torch.Tensor:
    return batch


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def rate(items: int, call: Callable[[], object], device: str, repeats: int = 3) -> float:
    """Best items/s of `repeats` timed calls after one warm-up call."""
    call()
    synchronise(device)
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        synchronise(device)
        best = max(best, items / (time.perf_counter() - started))
    return best


@torch.inference_mode()
def encode(model: CLIPModel, pixels: torch.Tensor, device: str, dtype: torch.dtype) -> np.ndarray:
    """Vectors as the build stores them: fp16 on the GPU, L2-normalised, float32 on the host."""
    output = model.get_image_features(pixel_values=pixels.to(device, dtype=dtype, non_blocking=True))
    features = output if isinstance(output, torch.Tensor) else output.pooler_output
    features = features.float()
    return (features / features.norm(dim=-1, keepdim=True)).cpu().numpy()


@torch.inference_mode()
def encode_names(model: CLIPModel, tokens: torch.Tensor) -> np.ndarray:
    output = model.get_text_features(input_ids=tokens, attention_mask=torch.ones_like(tokens))
    features = output if isinstance(output, torch.Tensor) else output.pooler_output
    return features.float().cpu().numpy()


def pipeline(photos: list[bytes], processor: Any, model: CLIPModel, args: argparse.Namespace, workers: int) -> dict:
    """The whole pipeline with `workers` decode/preprocess processes: images/s and where the time went."""
    loader = DataLoader(
        PhotoBatches(photos, processor),
        batch_size=args.batch_size,
        num_workers=workers,
        collate_fn=whole_batch,  # type: ignore[arg-type]  # __getitems__ gives it the whole batch, not a list
        pin_memory=args.device.startswith("cuda"),
        prefetch_factor=4 if workers else None,
        persistent_workers=False,
    )
    waited = encoded = 0.0
    count = 0
    started = mark = time.perf_counter()
    for pixels in loader:
        ready = time.perf_counter()
        waited += ready - mark
        count += len(encode(model, pixels, args.device, args.dtype))
        mark = time.perf_counter()
        encoded += mark - ready
    wall = time.perf_counter() - started
    return {"images_per_s": count / wall, "waiting_for_reader_s": waited, "encode_s": encoded, "wall_s": wall}


def stage_rates(photos: list[bytes], processor: Any, model: CLIPModel, args: argparse.Namespace) -> dict[str, float]:
    """Each stage alone: decode and preprocess in this one process, copy and encode on the device."""
    sample = photos[: args.batch_size * 2]
    decoded = [decode(data) for data in sample]
    pixels = processor(images=decoded[: args.batch_size], return_tensors="pt")["pixel_values"]
    pinned = pixels.pin_memory() if args.device.startswith("cuda") else pixels
    on_device = pixels.to(args.device, dtype=args.dtype)
    tokens = torch.randint(0, 49_000, (args.batch_size, 16), device=args.device)
    return {
        "decode": rate(len(sample), lambda: [decode(data) for data in sample], "cpu"),
        "preprocess": rate(len(decoded), lambda: processor(images=decoded, return_tensors="pt"), "cpu"),
        "host_to_device": rate(len(pixels), lambda: pinned.to(args.device, non_blocking=True), args.device, 10),
        "encode": rate(len(pixels), lambda: encode(model, on_device, args.device, args.dtype), args.device),
        "names": rate(len(tokens), lambda: encode_names(model, tokens), args.device),
    }


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(value: object) -> str:
        return f"{value:,.1f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(column, "")) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", type=int, default=16_384, help="photos per pipeline run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", default=None, help="comma-separated worker counts (default: 4,8,cores)")
    parser.add_argument("--quick", action="store_true", help="tiny model, 96 images, batch 16, workers 0,1")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda but no CUDA device is visible (pass --device cpu for a smoke run)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if args.quick:
        args.images, args.batch_size, args.workers = 96, 16, args.workers or "0,1"
    args.workers = [int(n) for n in (args.workers or f"4,8,{cores}").split(",")]
    args.dtype = torch.float16 if args.device.startswith("cuda") else torch.float32
    args.cores = cores
    return args


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = load_spec("clip-tiny" if args.quick else "clip-vit-b32")
    size = spec["image_size"]
    processor = image_processor_class()(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    model = random_clip(spec, args.device, args.dtype)
    photos = product_photos(args.images)
    stages = stage_rates(photos, processor, model, args)
    runs = [{"workers": workers, **pipeline(photos, processor, model, args, workers)} for workers in args.workers]
    best = max(runs, key=lambda run: run["images_per_s"])
    per_worker = 1.0 / (1.0 / stages["decode"] + 1.0 / stages["preprocess"])
    reader_ceiling = per_worker * max(best["workers"], 1)
    bound = "encoder (GPU)" if stages["encode"] <= reader_ceiling else "decode + preprocess workers (CPU)"
    stage_rows = [
        {"stage": "decode (PIL, 1 process)", "images_per_s": stages["decode"]},
        {"stage": "preprocess (1 process, one call per batch)", "images_per_s": stages["preprocess"]},
        {"stage": "decode + preprocess, per worker", "images_per_s": per_worker},
        {"stage": "host → device copy (pinned)", "images_per_s": stages["host_to_device"]},
        {"stage": "image encode alone (on device)", "images_per_s": stages["encode"]},
        {"stage": "name encode alone, 16 tokens (doc_image_weight < 1 only)", "images_per_s": stages["names"]},
    ]
    model_name = "tiny" if args.quick else "ViT-B/32"
    print(
        f"\nBuild image pipeline on {device_name(args.device)} ({args.cores} CPU cores), {model_name} "
        f"{str(args.dtype).removeprefix('torch.')}, batch {args.batch_size}, {args.images:,} 60×80 JPEGs per run; "
        f"torch {torch.__version__}, transformers {transformers.__version__}, {image_processor_class().__name__}\n"
    )
    print(table(stage_rows, ["stage", "images_per_s"]), "\n")
    print(table(runs, ["workers", "images_per_s", "waiting_for_reader_s", "encode_s", "wall_s"]), "\n")
    print(
        f"Best: {best['images_per_s']:,.0f} images/s with {best['workers']} workers; bound by the {bound}: "
        f"encoder alone {stages['encode']:,.0f} images/s, {best['workers']} workers ≈ {reader_ceiling:,.0f}."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = {**vars(args), "dtype": str(args.dtype)}
        result = {"device": device_name(args.device), "stages": stage_rows, "pipeline": runs, "bound": bound}
        args.json.write_text(json.dumps({**result, "settings": settings}, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
