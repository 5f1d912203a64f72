"""What a build is asked to do (BuildConfig, one field per index_build.py option) and what it did (BuildReport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from search.bundle import Changes
from search.catalog.photos import INLINE_MAX_MB
from search.catalog.schema import DEFAULT_DATASET
from search.encoding.encoder import DEFAULT_MODEL
from search.indexing.unreadable import DEFAULT_MAX_SHARE

# "default": this process (DataLoader workers decode, one encoder); "ray": a Ray cluster (search.indexing.ray_runner).
ENGINES = ("default", "ray")


@dataclass
class BuildConfig:
    """Every setting of a build; defaults build the full default catalog with the default model."""

    out: Path = Path("build/fashion-index")
    dataset: str = DEFAULT_DATASET
    split: str = "train"
    dataset_revision: str | None = None
    limit: int | None = None
    model: str = DEFAULT_MODEL
    model_revision: str | None = None
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False
    batch_size: int = 64
    num_workers: int = 2
    shard_size: int = 4096
    cache_dir: Path | None = None
    keep_cache: bool = False
    index_type: str = "auto"
    doc_image_weight: float = 1.0
    engine: str = "default"
    ray_address: str | None = None
    photos_inline_max_mb: int = INLINE_MAX_MB
    max_unreadable_share: float = DEFAULT_MAX_SHARE
    runtime: str | None = None
    export_onnx: bool = False
    threads: int | None = None
    reuse: str | None = None
    full: bool = False

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}.")
        if self.num_workers < 0:
            raise ValueError(f"--num-workers must be 0 or more, got {self.num_workers}.")
        if not 0.0 <= self.doc_image_weight <= 1.0:
            raise ValueError(f"--doc-image-weight must be between 0 and 1, got {self.doc_image_weight}.")
        if self.photos_inline_max_mb < 0:
            raise ValueError(f"--photos-inline-max-mb must be 0 or more, got {self.photos_inline_max_mb}.")
        if self.engine not in ENGINES:
            raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, got '{self.engine}'.")
        if self.ray_address and self.engine != "ray":
            raise ValueError("--ray-address is for the Ray engine: add --engine ray.")
        if not 0.0 <= self.max_unreadable_share <= 1.0:
            raise ValueError(f"--max-unreadable-share must be between 0 and 1, got {self.max_unreadable_share}.")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {self.threads}.")
        if self.full and self.reuse:
            raise ValueError("--full encodes everything and --reuse reuses a bundle's vectors: give one of them.")
        self.shard_size = max(self.batch_size, self.shard_size // self.batch_size * self.batch_size)

    @property
    def encodes_names(self) -> bool:
        """Product names are encoded only when product vectors mix them in (doc_image_weight < 1)."""
        return self.doc_image_weight < 1.0

    @property
    def cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else self.out.parent / f"{self.out.name}.cache"


@dataclass
class BuildReport:
    """What a build did and how long each stage took (seconds)."""

    bundle: Path
    products: int
    dim: int
    resumed_products: int
    changes: Changes
    unreadable: dict[int, str] = field(default_factory=dict)  # product id → why its photo could not be read
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        encoded = self.changes.encoded - self.resumed_products
        busy = self.seconds.get("read", 0.0) + self.seconds.get("encode", 0.0)
        return encoded / busy if busy > 0 and encoded else 0.0

    def summary(self) -> str:
        stages = ", ".join(f"{name} {value:.1f}s" for name, value in self.seconds.items())
        return (
            f"Built {self.bundle}: {self.products:,} products, {self.dim}-d, {self.images_per_second:,.0f} images/s "
            f"({self.resumed_products:,} resumed from cache, {len(self.unreadable)} unreadable images); {stages}. "
            f"Changes: {self.changes.summary()}"
        )
