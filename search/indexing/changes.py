"""Incremental builds: what changed since a previous bundle, and which of its vectors this build can take over.

A stored vector is reused only when everything that made it is the same: the model (id, revision, runtime,
precision, and the probe embedding, which catches other weights in the same folder), the document recipe (image
weight, text fields, the recipe version) and the product's own content keys (photo bytes, and text when product
vectors use it). A previous bundle that is damaged, older than content keys or made another way is never reused
silently: the build logs why it encodes everything, and the change report records it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from search.bundle import (
    Changes,
    ContentInfo,
    Manifest,
    ModelInfo,
    is_bundle,
    load_content,
    load_index,
    read_manifest,
    resolve_bundle,
)
from search.catalog.content import HASH, RECIPE, ContentKeys, same
from search.errors import BundleError
from search.indexing.config import BuildConfig
from search.ranking.index import VectorIndex

logger = logging.getLogger(__name__)

# The probe embedding of the same weights, runtime and precision agrees to rounding; other weights fall far below.
SAME_WEIGHTS_COSINE = 0.9999
# Why everything is encoded when nothing was refused: asked for, or nothing to compare with.
FULL = "--full: every product encoded"
NO_PREVIOUS = "no previous bundle at --out"


@dataclass(frozen=True)
class Previous:
    """A previous bundle this build compares with: its folder, manifest and content keys."""

    name: str
    folder: Path
    manifest: Manifest
    content: ContentKeys
    recipe: ContentInfo  # how its content keys were made

    def index(self) -> VectorIndex:
        """Its vector index, for the vectors reused from it."""
        return load_index(self.folder, self.manifest)


@dataclass(frozen=True)
class ChangePlan:
    """Which catalog rows to encode, which to take over from the previous bundle (and from which of its rows), and
    the change report."""

    encode: np.ndarray
    reuse: np.ndarray
    reuse_from: np.ndarray
    changes: Changes

    def digest(self, keys: ContentKeys) -> str:
        """A digest of exactly what the rows to encode hold (row numbers, ids, what their vectors are made from):
        it keys the shard cache, so an interrupted build resumes only over the same work."""
        hasher = hashlib.sha256(self.encode.tobytes())
        hasher.update(np.ascontiguousarray(keys.ids[self.encode]).tobytes())
        hasher.update(np.ascontiguousarray(keys.vector_keys()[self.encode]).tobytes())
        return hasher.hexdigest()


def open_previous(config: BuildConfig) -> tuple[Previous | None, str]:
    """The bundle to compare with (`--reuse`, else the one at `--out`) and, when there is none to use, why. A
    `--reuse` that names nothing is an error (a typo should not cost a full build); a bundle that is damaged or has
    no content keys is reported and not used."""
    if config.full:
        return None, FULL
    if config.reuse is None and not is_bundle(config.out):
        return None, NO_PREVIOUS
    # Named as the user gave it, never by a local path: the reason is recorded in the bundle and its card.
    name = f"--reuse {config.reuse}" if config.reuse else "at --out"
    folder = resolve_bundle(config.reuse or config.out)
    try:
        manifest = read_manifest(folder)
        content = load_content(folder, manifest)
    except BundleError as error:
        return None, f"the previous bundle {name} cannot be used: {error}"
    if content is None or manifest.components.content is None:
        return None, f"the previous bundle {name} has no content keys (built before incremental builds)"
    return Previous(name, folder, manifest, content, manifest.components.content), ""


def refusal(previous: Previous, model: ModelInfo, doc_image_weight: float, keys: ContentKeys) -> str:
    """Why the previous bundle's vectors are not this build's ('' when they are)."""
    before, info = previous.manifest.model, previous.recipe
    checks = [
        ("model", before.id, model.id),
        ("model revision", before.revision, model.revision),
        ("runtime", before.build_runtime, model.build_runtime),
        ("precision", before.build_dtype, model.build_dtype),
        ("dimension", before.dim, model.dim),
        ("document image weight", previous.manifest.index.doc_image_weight, doc_image_weight),
        ("product text fields", tuple(info.text_fields), keys.text_fields),
        ("content recipe", (info.recipe, info.hash), (RECIPE, HASH)),
    ]
    for what, then, now in checks:
        if then != now:
            return f"the previous bundle {previous.name} differs in its {what} ({then!r}, now {now!r})"
    cosine = float(np.dot(before.probe.vector, model.probe.vector))
    if cosine < SAME_WEIGHTS_COSINE:
        return (
            f"the previous bundle {previous.name} was built with other weights of {model.id} (probe cosine "
            f"{cosine:.4f})"
        )
    return ""


def plan_changes(keys: ContentKeys, previous: Previous | None, reason: str) -> ChangePlan:
    """Compare this catalog with the previous bundle's, product by product (matched by id). Without a previous
    bundle, or with `reason` not to reuse it, everything is encoded (its changes are still counted when it has
    content keys)."""
    rows = np.arange(len(keys), dtype=np.int64)
    if previous is None:
        changes = Changes(products=len(keys), added=len(keys), removed=0, photo=0, text=0, labels=0,
                          encoded=len(keys), reused=0, reason=reason)  # fmt: skip
        return ChangePlan(rows, rows[:0], rows[:0], changes)
    before = previous.content
    position = pd.Index(before.ids).get_indexer(keys.ids)
    common = position >= 0
    here, there = rows[common], position[common]
    photo = same(keys.photo[here], before.photo[there])
    text = same(keys.text[here], before.text[there])
    labels = same(keys.labels[here], before.labels[there])
    has_vector = np.ones(len(before), dtype=bool)
    has_vector[list(previous.manifest.index.rows_without_vectors)] = False
    reusable = photo & has_vector[there]
    if keys.text_fields:
        reusable &= text
    if reason:
        reusable[:] = False
    encode = np.ones(len(keys), dtype=bool)
    encode[here[reusable]] = False
    changes = Changes(
        products=len(keys),
        added=int((~common).sum()),
        removed=len(before) - int(common.sum()),
        photo=int((~photo).sum()),
        text=int((photo & ~text).sum()),
        labels=int((photo & text & ~labels).sum()),
        encoded=int(encode.sum()),
        reused=int(reusable.sum()),
        since=previous.manifest.created_at,
        reason=reason or None,
    )
    return ChangePlan(rows[encode], here[reusable], there[reusable], changes)
