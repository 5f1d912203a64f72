"""Build stage 3: embedding shards on disk, so an interrupted build resumes where it stopped.

Both engines fill the same cache through the same `ShardAssembler`: vectors arrive in batches of any order (the
default engine's in row order, Ray's as the cluster returns them), and each shard is written the moment all its
rows are in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from search.indexing.reader import Unreadable
from search.indexing.unreadable import UnreadableImages


class ShardCache:
    """Image and text vectors of the catalog rows a build encodes (`rows`, ascending), in fixed runs of
    `shard_size` of them, one .npz each, written atomically.

    The folder is keyed by everything that changes the vectors (the settings, which include a digest of exactly
    what the rows to encode hold), so a re-run with other settings or changed products never reuses stale shards,
    and the same build after an interrupt resumes from its finished shards.
    """

    def __init__(
        self,
        root: Path,
        settings: dict[str, Any],
        rows: Sequence[int] | np.ndarray,
        shard_size: int,
        unreadable: UnreadableImages | None = None,
    ) -> None:
        key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.folder = Path(root) / key
        self.encoded_rows = np.asarray(rows, dtype=np.int64)
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
    def num_rows(self) -> int:
        """How many rows the cache holds when complete."""
        return len(self.encoded_rows)

    @property
    def num_shards(self) -> int:
        return -(-self.num_rows // self.shard_size)

    def rows(self, shard: int) -> np.ndarray:
        """The catalog rows of a shard, in order."""
        return self.encoded_rows[shard * self.shard_size : (shard + 1) * self.shard_size]

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shard, position within it) of catalog rows the cache holds."""
        positions = np.searchsorted(self.encoded_rows, rows)
        found = positions < self.num_rows
        found[found] = self.encoded_rows[positions[found]] == rows[found]
        if not found.all():
            raise ValueError(f"Vectors came back for rows this build does not encode: {rows[~found][:5].tolist()}.")
        return np.divmod(positions, self.shard_size)

    def path(self, shard: int) -> Path:
        return self.folder / f"shard-{shard:06d}.npz"

    def done(self, shard: int) -> bool:
        return self.path(shard).is_file()

    def missing_rows(self) -> list[int]:
        """The catalog rows of the shards not written yet."""
        return [row for shard in range(self.num_shards) if not self.done(shard) for row in self.rows(shard).tolist()]

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


class ShardAssembler:
    """Places vectors by catalog row into their shards; each shard is written the moment all its rows are in."""

    def __init__(self, cache: ShardCache) -> None:
        self.cache = cache
        self.pending: dict[int, dict[str, Any]] = {}

    def add(self, rows: np.ndarray, image: np.ndarray, text: np.ndarray, unreadable: Mapping[int, str]) -> None:
        """Vectors of some rows (`text` has 0 columns when names are not encoded) and why some of those rows'
        photos could not be read."""
        rows = np.asarray(rows, dtype=np.int64)
        shards, offsets = self.cache.locate(rows)
        for shard in np.unique(shards).tolist():
            mine = shards == shard
            part = self._part(shard, image.shape[1], text.shape[1])
            part["image"][offsets[mine]] = image[mine]
            part["text"][offsets[mine]] = text[mine]
            part["seen"][offsets[mine]] = True
            part["unreadable"].update({row: unreadable[row] for row in rows[mine].tolist() if row in unreadable})
            if part["seen"].all():
                self.cache.write(shard, part["image"], part["text"], part["unreadable"])
                del self.pending[shard]

    def _part(self, shard: int, image_dim: int, text_dim: int) -> dict[str, Any]:
        if shard not in self.pending:
            size = len(self.cache.rows(shard))
            self.pending[shard] = {
                "image": np.zeros((size, image_dim), dtype=np.float32),
                "text": np.zeros((size, text_dim), dtype=np.float32),
                "seen": np.zeros(size, dtype=bool),
                "unreadable": {},
            }
        return self.pending[shard]
