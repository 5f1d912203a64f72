"""Wheels that let a machine without network run the Ray build (benchmarks/gpu_ray_build.py): Ray and its
dependencies for one Python version and platform, in a folder to carry there and install with `--no-index`.

    python scripts/gpu_ray_wheels.py --out build/gpu-wheels --skip numpy,pyarrow,pandas

Ray's wheel ships the Java worker (ray/jars/ray_dist.jar, ~31 MiB zipped), which a Python-only build never
starts; it is dropped (with its RECORD lines), bringing the Ray wheel from ~76 MiB to ~45 MiB. On the target:

    pip install --no-index --find-links build/gpu-wheels -r requirements-scale.txt
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
JAVA_JARS = "ray/jars/"


def download(out: Path, python_version: str) -> None:
    """pip's own resolver picks the wheels (and their dependencies) for the target interpreter and platform."""
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"),
            *("--python-version", python_version, "--implementation", "cp", *platforms),
            *("-r", "requirements-scale.txt", "-d", str(out)),
        ],
        check=True,
    )


def drop_java(wheel: Path) -> None:
    """Rewrite the Ray wheel without the Java worker's jar and its RECORD lines."""
    stripped = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename.startswith(JAVA_JARS):
                continue
            data = source.read(item.filename)
            if item.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(line for line in lines if not line.startswith(JAVA_JARS)).encode()
            target.writestr(item, data)
    stripped.replace(wheel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/gpu-wheels"))
    parser.add_argument("--python-version", default="3.12")
    parser.add_argument("--skip", default="", help="comma-separated packages the target already has")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    download(args.out, args.python_version)
    skipped = {name.strip().lower().replace("-", "_") for name in args.skip.split(",") if name.strip()}
    total = 0
    for wheel in sorted(args.out.glob("*.whl")):
        if wheel.name.split("-")[0].lower() in skipped:
            wheel.unlink()
            continue
        if wheel.name.startswith("ray-"):
            drop_java(wheel)
        size = wheel.stat().st_size
        total += size
        print(f"{size / 2**20:7.1f} MiB  {wheel.name}")
    print(f"{total / 2**20:7.1f} MiB  total in {args.out}")


if __name__ == "__main__":
    main()
