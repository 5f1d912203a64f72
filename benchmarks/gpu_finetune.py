"""Fine-tuning steps/s and peak GPU memory: the ViT-B/32 architecture (random weights) at batch 256.

    python benchmarks/gpu_finetune.py                        # CUDA: fp32, fp16 and bf16 autocast, about 1 min
    python benchmarks/gpu_finetune.py --batch-size 512 --json OUT.json
    python benchmarks/gpu_finetune.py --quick --device cpu   # smoke run: tiny model, 2 steps (the tests run this)

Self-contained on purpose (a GPU machine may have only torch, transformers, numpy and pillow): it imports nothing
from the `search` package. It times the step `finetune.py` runs (search/training/loop.py), rebuilt here: both
towers forward under autocast, the multi-field loss (search/training/loss.py, loaded from its file, so the very
code that trains), backward (GradScaler for fp16), gradient norm clipped to 1, AdamW with decay on matrices.
The batch: generated product photos (a coloured garment shape on white, resized to 224 and normalised like the
CLIP processor) and the distinct texts of finetune.py's default fields as a real 256-product batch has them
(a name per product, fewer shared label texts), as token ids padded to the longest, like the tokenizer's output.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import platform
import random
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
import transformers
from PIL import Image, ImageDraw
from transformers import CLIPConfig, CLIPModel

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "search" / "fixtures" / "configs"
LOSS_FILE = ROOT / "search" / "training" / "loss.py"
CLIP_VOCAB = 49408
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
# finetune.py's default fields: (loss weight, distinct texts per 256 products, tokens) — a name per product;
# label sentences, article types, colours and sub-categories shared by many products of a batch.
FIELDS = {
    "name": (1.0, 1.0, 20),
    "labels": (1.0, 0.4, 6),
    "articleType": (0.5, 0.15, 4),
    "baseColour": (0.5, 0.1, 3),
    "subCategory": (0.25, 0.08, 3),
}
AMP = {"fp16": torch.float16, "bf16": torch.bfloat16}


def training_loss() -> ModuleType:
    """search/training/loss.py itself, loaded from its file (it needs only torch; the package needs much more)."""
    spec = importlib.util.spec_from_file_location("finetune_training_loss", LOSS_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"{LOSS_FILE} is not a loadable Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_spec(name: str) -> dict[str, Any]:
    return json.loads((CONFIG_DIR / f"{name}.json").read_text())


def random_clip(spec: dict[str, Any], device: str) -> CLIPModel:
    """The config's architecture with random float32 weights (speed and memory do not depend on their values)."""
    config = CLIPConfig(
        text_config={**spec["text_config"], "vocab_size": CLIP_VOCAB},
        vision_config=spec["vision_config"],
        projection_dim=spec["projection_dim"],
    )
    torch.manual_seed(0)
    with torch.device(device):
        return CLIPModel(config).train()


def product_pixels(count: int, size: int, seed: int = 0) -> torch.Tensor:
    """`count` generated product photos as CLIP pixel values (size × size, normalised)."""
    rng = random.Random(seed)
    pixels = []
    for _ in range(count):
        image = Image.new("RGB", (60, 80), (255, 255, 255))
        colour = tuple(rng.randrange(256) for _ in range(3))
        left, top = rng.randint(5, 15), rng.randint(5, 20)
        draw = ImageDraw.Draw(image)
        draw.rectangle([left, top, 60 - left, 80 - rng.randint(5, 20)], fill=colour)
        draw.ellipse([left + 5, top - 5, 55 - left, top + 10], fill=colour)
        array = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
        pixels.append((array - CLIP_MEAN) / CLIP_STD)
    return torch.from_numpy(np.stack(pixels).transpose(0, 3, 1, 2).astype(np.float32))


FieldRows = list[tuple[float, slice, torch.Tensor]]


def text_batch(products: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, FieldRows]:
    """Token ids and attention mask of every field's distinct texts in one padded batch (as batch_loss tokenises
    them), and per field: its weight, its rows in that batch and each product's text position."""
    generator = torch.Generator().manual_seed(seed)
    longest = max(tokens for _, _, tokens in FIELDS.values())
    ids, masks, fields, start = [], [], [], 0
    for weight, share, tokens in FIELDS.values():
        distinct = max(2, round(share * products))
        field_ids = torch.randint(1, CLIP_VOCAB - 2, (distinct, longest), generator=generator)
        field_ids[:, tokens - 1] = CLIP_VOCAB - 1  # the end-of-text token, whose state CLIP pools
        ids.append(field_ids)
        mask = torch.zeros(distinct, longest, dtype=torch.long)
        mask[:, :tokens] = 1
        masks.append(mask)
        index = torch.arange(products) % distinct
        fields.append((weight, slice(start, start + distinct), index))
        start += distinct
    return torch.cat(ids), torch.cat(masks), fields


class Step:
    """One optimiser step of finetune.py's loop at one precision."""

    def __init__(self, model: CLIPModel, precision: str, device: str, loss: ModuleType) -> None:
        self.model, self.precision, self.device, self.loss = model, precision, device, loss
        params = [p for p in model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=1e-5)
        self.device_type = torch.device(device).type
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=precision == "fp16")

    def __call__(self, pixels: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, fields: list) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        autocast = torch.autocast(self.device_type, dtype=AMP[self.precision]) if self.precision in AMP else None
        with autocast or contextlib.nullcontext():
            image = self.model.get_image_features(pixel_values=pixels).pooler_output
            text = self.model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
        image = torch.nn.functional.normalize(image.float(), dim=-1)
        text = torch.nn.functional.normalize(text.float(), dim=-1)
        terms = [self.loss.FieldTerm(text[rows], index, weight) for weight, rows, index in fields]
        scale = self.model.logit_scale.exp().clamp(max=self.loss.MAX_LOGIT_SCALE)
        value = self.loss.multi_field_loss(image, terms, scale)
        self.scaler.scale(value).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return float(value.detach())


def synchronise(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def measure(args: argparse.Namespace, precision: str, spec: dict[str, Any], loss: ModuleType) -> dict[str, Any]:
    """Steps/s over `args.steps` timed steps after `args.warmup`, and the peak memory of the whole run."""
    cuda = torch.device(args.device).type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(args.device)
    model = random_clip(spec, args.device)
    pixels = product_pixels(args.batch_size, spec["image_size"]).to(args.device)
    ids, mask, fields = text_batch(args.batch_size)
    ids, mask = ids.to(args.device), mask.to(args.device)
    fields = [(weight, rows, index.to(args.device)) for weight, rows, index in fields]
    step = Step(model, precision, args.device, loss)
    losses = [step(pixels, ids, mask, fields) for _ in range(args.warmup)]
    synchronise(args.device)
    started = time.perf_counter()
    losses += [step(pixels, ids, mask, fields) for _ in range(args.steps)]
    synchronise(args.device)
    seconds = time.perf_counter() - started
    row = {
        "precision": precision,
        "batch": args.batch_size,
        "texts": len(ids),
        "steps_per_s": args.steps / seconds,
        "images_per_s": args.steps * args.batch_size / seconds,
        "ms_per_step": 1000 * seconds / args.steps,
        "peak_allocated_gib": torch.cuda.max_memory_allocated(args.device) / 2**30 if cuda else None,
        "peak_reserved_gib": torch.cuda.max_memory_reserved(args.device) / 2**30 if cuda else None,
        "loss_first_last": (losses[0], losses[-1]),
        "finite": bool(np.isfinite(losses).all()),
    }
    del step, model, pixels
    return row


def table(rows: list[dict[str, Any]]) -> str:
    header = "| precision | batch | texts | steps/s | images/s | ms/step | peak allocated GiB | peak reserved GiB |"
    lines = [header, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        memory = [f"{r[k]:.2f}" if r[k] is not None else "–" for k in ("peak_allocated_gib", "peak_reserved_gib")]
        lines.append(
            f"| {r['precision']} | {r['batch']} | {r['texts']} | {r['steps_per_s']:.2f} | {r['images_per_s']:.0f} | "
            f"{r['ms_per_step']:.0f} | {memory[0]} | {memory[1]} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--config", default="clip-vit-b32", help="architecture in search/fixtures/configs")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per precision")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precisions", default=None, help="comma list (default: fp32,fp16,bf16 on CUDA)")
    parser.add_argument("--quick", action="store_true", help="tiny model, batch 8, 2 steps (a smoke test)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.config, args.batch_size, args.steps, args.warmup = "clip-tiny", 8, 2, 1
    cuda = torch.device(args.device).type == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("No CUDA device here; use --device cpu (with --quick) for a smoke run.")
    default = ["fp32", "fp16", "bf16"] if cuda else ["fp32", "bf16"]
    args.precisions = args.precisions.split(",") if args.precisions else default
    if not cuda and "fp16" in args.precisions:
        parser.error("fp16 training needs CUDA (finetune.py refuses it on CPU).")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec, loss = load_spec(args.config), training_loss()
    rows = [measure(args, precision, spec, loss) for precision in args.precisions]
    cuda = torch.device(args.device).type == "cuda"
    device = torch.cuda.get_device_name(args.device) if cuda else platform.processor() or platform.machine()
    print(
        f"Fine-tuning step, {args.config} (random weights), {device}; torch {torch.__version__}, "
        f"transformers {transformers.__version__}; {args.steps} timed steps after {args.warmup} warm-up"
    )
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"device": device, "config": args.config, "rows": rows}, indent=2))
    return 0 if all(row["finite"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
