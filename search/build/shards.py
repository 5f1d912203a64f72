"""Build stage 3: embedding shards on disk, so an interrupted build resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np


class ShardCache:
    """Fixed row ranges of image and text vectors, one .npz each, written atomically.

    The folder is keyed by everything that changes the vectors, so a re-run with other settings never
    reuses stale shards.
    """

    def __init__(self, root: Path, settings: dict[str, Any], num_rows: int, shard_size: int) -> None:
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.folder = Path(root) / key
        self.num_rows = num_rows
        self.shard_size = shard_size
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True, default=str))

    @property
    def num_shards(self) -> int:
        return -(-self.num_rows // self.shard_size)

    def rows(self, shard: int) -> range:
        return range(shard * self.shard_size, min((shard + 1) * self.shard_size, self.num_rows))

    def path(self, shard: int) -> Path:
        return self.folder / f"shard-{shard:06d}.npz"

    def done(self, shard: int) -> bool:
        return self.path(shard).is_file()

    def missing_rows(self) -> list[int]:
        return [row for shard in range(self.num_shards) if not self.done(shard) for row in self.rows(shard)]

    def write(self, shard: int, image: np.ndarray, text: np.ndarray, bad_images: int) -> None:
        temporary = self.path(shard).with_suffix(".tmp.npz")
        np.savez(temporary, image=image, text=text, bad_images=np.int64(bad_images))
        os.replace(temporary, self.path(shard))

    def read_all(self) -> tuple[np.ndarray, np.ndarray, int]:
        """All image vectors, text vectors and the count of unreadable images, in row order."""
        images, texts, bad = [], [], 0
        for shard in range(self.num_shards):
            with np.load(self.path(shard)) as data:
                images.append(data["image"])
                texts.append(data["text"])
                bad += int(data["bad_images"])
        return np.concatenate(images), np.concatenate(texts), bad
