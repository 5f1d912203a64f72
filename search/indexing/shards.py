"""Build stage 3: embedding shards on disk, so an interrupted build resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from search.encoding.vectors import mix
from search.indexing.reader import Unreadable
from search.indexing.unreadable import UnreadableImages


class ShardCache:
    """Fixed row ranges of image and text vectors, one .npz each, written atomically.

    The folder is keyed by everything that changes the vectors (the settings, which include a fingerprint of the
    catalog's content), so a re-run with other settings or a changed catalog never reuses stale shards.
    """

    def __init__(
        self,
        root: Path,
        settings: dict[str, Any],
        num_rows: int,
        shard_size: int,
        unreadable: UnreadableImages | None = None,
    ) -> None:
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.folder = Path(root) / key
        self.num_rows = num_rows
        self.shard_size = shard_size
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True, default=str))
        # Every shard's unreadable photos are counted as it is written (or found written), so whichever engine
        # encodes, the build stops once there are more than it may leave out.
        self.unreadable_images = unreadable
        if unreadable is not None:
            for shard in range(self.num_shards):
                if self.done(shard):
                    unreadable.add(self.unreadable(shard))

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

    def write(self, shard: int, image: np.ndarray, text: np.ndarray, unreadable: Unreadable) -> None:
        """Store a shard's vectors and its rows whose photo could not be read (row → reason)."""
        rows = sorted(unreadable)
        temporary = self.path(shard).with_suffix(".tmp.npz")
        np.savez(
            temporary,
            image=image,
            text=text,
            unreadable_rows=np.asarray(rows, dtype=np.int64),
            unreadable_reasons=np.asarray([unreadable[row] for row in rows], dtype=np.str_),
        )
        os.replace(temporary, self.path(shard))
        if self.unreadable_images is not None:
            self.unreadable_images.add(unreadable)

    def unreadable(self, shard: int) -> Unreadable:
        """The rows of a written shard whose photo could not be read, with the reasons."""
        with np.load(self.path(shard)) as data:
            return dict(zip(data["unreadable_rows"].tolist(), data["unreadable_reasons"].tolist(), strict=True))

    def read(self, shard: int) -> tuple[np.ndarray, np.ndarray]:
        """A written shard's image and text vectors."""
        with np.load(self.path(shard)) as data:
            return data["image"], data["text"]

    def document_vectors(
        self, path: Path, dim: int, doc_image_weight: float, without_vectors: Sequence[int]
    ) -> np.ndarray:
        """Every product's document vector, mix(image, text, doc_image_weight), zero for the rows without one,
        written shard by shard to the .npy file `path` and returned memory-mapped: the build then holds one shard,
        not the catalog's image and text vectors (4 KB per product, 41 GB at 10M)."""
        without = np.asarray(sorted(without_vectors), dtype=np.int64)
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(self.num_rows, dim))
        for shard in range(self.num_shards):
            rows = self.rows(shard)
            vectors = mix(*self.read(shard), doc_image_weight)
            vectors[without[(without >= rows.start) & (without < rows.stop)] - rows.start] = 0.0
            out[rows.start : rows.stop] = vectors
        out.flush()
        del out
        return np.load(path, mmap_mode="r")
