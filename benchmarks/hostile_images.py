"""What a hostile photo of a few KB costs a photo search: peak memory and time of decoding and preprocessing it.

    python -m benchmarks.hostile_images                      # this checkout
    python -m benchmarks.hostile_images --code-root ../old   # another checkout of the repository (e.g. before a fix)

Each photo is decoded and preprocessed as a photo query is (`QueryEncoder.image` up to the encoder: decoding,
then the image processor of fashion-clip's size, 224 px) in a fresh Python process, so one photo's peak resident
memory is not hidden by another's; the table gives the peak above that process's resident memory before the
photo (the processor loaded) and the wall time. A refused photo shows its message.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import Report, machine
from benchmarks.fixtures import REPO_ROOT

logger = logging.getLogger("benchmarks.hostile_images")

EDGE = 224  # fashion-clip's processor: shortest edge 224, centre crop 224


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _sixteen_bit() -> bytes:
    return _png(Image.fromarray(np.tile(np.linspace(0, 65535, 6_300, dtype=np.uint16), (6_300, 1))))


def _large_jpeg() -> bytes:
    ramp = np.linspace(0, 255, 7_500, dtype=np.float32)
    noise = np.random.default_rng(0).integers(0, 24, (5_000, 7_500, 1), dtype=np.uint8)
    return _jpeg(Image.fromarray((ramp[None, :, None] * np.array([1.0, 0.6, 0.3])).astype(np.uint8) + noise))


def photos() -> dict[str, Callable[[], bytes]]:
    """The hostile photos of issue 23 (thin 1-bit PNGs, a 16-bit greyscale PNG) and a large ordinary JPEG, each
    made when measured."""
    return {
        "1-bit PNG 8 × 20,000": lambda: _png(Image.new("1", (8, 20_000), 1)),
        "1-bit PNG 8 × 1,000,000": lambda: _png(Image.new("1", (8, 1_000_000), 1)),
        "16-bit greyscale PNG 6,300 × 6,300": _sixteen_bit,
        "1-bit PNG 6,000 × 6,000": lambda: _png(Image.new("1", (6_000, 6_000), 1)),
        "JPEG 7,500 × 5,000 (37.5 MP)": _large_jpeg,
    }


# Run in a fresh process with the checkout under test first on the path, so it imports nothing from benchmarks/:
# decode and preprocess one photo as a photo query does, print the peak memory above the start and the time.
CHILD = """
import inspect, json, os, sys, threading, time
from PIL import Image
from transformers import CLIPImageProcessorPil
from search.catalog.images import load_image
from search.errors import InvalidImageError

edge = int(sys.argv[2])
processor = CLIPImageProcessorPil(size={"shortest_edge": edge}, crop_size={"height": edge, "width": edge})
data = open(sys.argv[1], "rb").read()
takes_edge = "edge" in inspect.signature(load_image).parameters  # a checkout from before the fix does not
processor(images=[Image.new("RGB", (60, 80))], return_tensors="np")
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * page
before, peak, done = rss(), [0], threading.Event()
def sample():  # resident memory every millisecond while the photo is decoded and preprocessed
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.001)
sampler = threading.Thread(target=sample)
sampler.start()
started = time.perf_counter()
try:
    image = load_image(data, edge) if takes_edge else load_image(data)
    processor(images=[image], return_tensors="np")
    outcome = "searched"
except InvalidImageError as error:
    outcome = "refused: " + str(error)[:60] + "…"
seconds = time.perf_counter() - started
done.set()
sampler.join()
peak_mb = round(max(peak[0], rss()) / 2**20 - before / 2**20, 1)
print(json.dumps({"peak_mb": peak_mb, "seconds": round(seconds, 3), "outcome": outcome}))
"""


def measure(code_root: Path, folder: Path, skip: set[str]) -> Report:
    report = Report(
        "hostile_images",
        f"A hostile photo's cost in one photo query (code: {code_root})",
        ["photo", "file bytes", "peak MB above start", "seconds", "outcome"],
        settings={"code_root": str(code_root), "edge": EDGE, "machine": machine()},
    )
    for name, make in photos().items():
        if name in skip:
            report.add(photo=name, outcome="not run (--skip)")
            continue
        data = make()
        path = folder / f"photo-{len(report.rows)}.bin"
        path.write_bytes(data)
        env = {**os.environ, "PYTHONPATH": str(code_root)}
        command = [sys.executable, "-c", CHILD, str(path), str(EDGE)]
        done = subprocess.run(command, cwd=code_root, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            result = {"outcome": f"process failed ({done.returncode}): {done.stderr.strip()[-120:]}"}
        else:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        report.add(
            photo=name,
            **{"file bytes": len(data), "peak MB above start": result.get("peak_mb")},
            seconds=result.get("seconds"),
            outcome=result["outcome"],
        )
        logger.info("%s: %s", name, result)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code-root", type=Path, default=REPO_ROOT, help="checkout whose `search` package decodes")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "benchmarks")
    parser.add_argument("--skip", action="append", default=[], help="a photo name not to run (e.g. too big to try)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    report = measure(args.code_root.resolve(), args.out, set(args.skip))
    (args.out / "hostile_images.json").write_text(json.dumps(report.to_dict(), indent=2))
    print(report.table())


if __name__ == "__main__":
    main()
