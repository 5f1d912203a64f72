"""Helpers shared by the tests (fixtures live in conftest.py): index_build arguments, a Hub cache layout."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path


def build_args(catalog: Path, model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--dataset",
        str(catalog),
        "--model",
        str(model),
        "--out",
        str(out),
        "--batch-size",
        "16",
        "--num-workers",
        "0",
        *extra,
    ]


def put_in_hub_cache(cache: Path, repo_type: str, repo_id: str, source: Path, commit: str = "a" * 40) -> Path:
    """Lay out `source` as a cached Hub snapshot of repo_id (what a real download leaves behind)."""
    folder = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    shutil.copytree(source, snapshot)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    return snapshot


def edit_manifest(folder: Path, change: Callable[[dict], object]) -> None:
    """Change a bundle's manifest.json as a JSON object (its checksums are left as they were)."""
    data = json.loads((folder / "manifest.json").read_text())
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data))
