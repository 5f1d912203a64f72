"""Index bundles: a self-describing folder (manifest, FAISS index, products table, card), saved atomically,
loaded with checksum verification, pulled from and pushed to the Hugging Face Hub."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from huggingface_hub import create_repo, snapshot_download, upload_folder

from search import __version__
from search.errors import BundleError, BundleMismatchError, HubError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.faiss"
PRODUCTS_FILE = "products.parquet"
CARD_FILE = "README.md"
REQUIRED_FILES = (INDEX_FILE, PRODUCTS_FILE)
PROBE_TEXT = "a photo of a fashion product"
# Cosine between the probe vector stored at build time and the one the loading encoder gives; fp16 GPU builds
# and fp32 CPU serving agree far above this, a different model falls far below it.
PROBE_MIN_COSINE = 0.98


@dataclass
class Manifest:
    """Everything about how a bundle was built; the single source of truth for code that loads it."""

    model: dict[str, Any]
    dataset: dict[str, Any]
    index: dict[str, Any]
    components: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    code_version: str = field(default_factory=lambda: code_version())

    @property
    def dim(self) -> int:
        return int(self.model["dim"])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        version = data.get("format_version")
        if not isinstance(version, int):
            raise BundleError("The bundle manifest has no valid format_version.")
        if version > FORMAT_VERSION:
            raise BundleError(
                f"This bundle uses format version {version}, newer than the {FORMAT_VERSION} this code reads. "
                "Upgrade this project, or rebuild the bundle with this version of index_build.py."
            )
        missing = [name for name in ("model", "dataset", "index", "files") if name not in data]
        if missing:
            raise BundleError(f"The bundle manifest lacks section(s): {', '.join(missing)}.")
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def code_version() -> str:
    """The package version plus the git commit it runs from, when known."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundle_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)


def write_bundle(
    out: Path, manifest: Manifest, write_files: Callable[[Path], None], write_card: Callable[[Manifest], str]
) -> Path:
    """Write a bundle atomically: everything goes to a temporary sibling folder that replaces `out` at the end.

    `write_files(folder)` writes the data files; checksums and the manifest are written last, so a folder
    without a complete manifest never loads.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        write_files(staging)
        (staging / CARD_FILE).write_text(write_card(manifest), encoding="utf-8")
        manifest.files = {
            str(path.relative_to(staging)): {"sha256": sha256_of(path), "bytes": path.stat().st_size}
            for path in _bundle_files(staging)
        }
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
        _replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("Wrote index bundle %s", out)
    return out


def _replace_folder(new: Path, target: Path) -> None:
    """Swap `new` into place of `target` with renames; the old folder is removed only after the swap."""
    if not target.exists():
        new.rename(target)
        return
    if not (target / MANIFEST_FILE).exists() and any(target.iterdir()):
        raise BundleError(f"{target} exists and is not an index bundle; refusing to replace it. Choose another --out.")
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    target.rename(retired)
    new.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def read_manifest(folder: Path, verify: bool = True) -> Manifest:
    """Read and check a bundle's manifest: format version, every listed file present with its sha256."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"Index bundle folder not found: {folder}")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(
            f"{folder} is not an index bundle: {MANIFEST_FILE} is missing (an interrupted build, or the wrong folder)."
        )
    try:
        manifest = Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
        raise BundleError(f"The bundle manifest {path} is not valid JSON: {error}") from error
    missing = [name for name in REQUIRED_FILES if name not in manifest.files]
    if missing:
        raise BundleError(f"The bundle manifest does not list required file(s): {', '.join(missing)}.")
    for name, expected in manifest.files.items():
        file = folder / name
        if not file.is_file():
            raise BundleError(f"The bundle is incomplete: {name} is missing from {folder}.")
        if file.stat().st_size != expected["bytes"]:
            raise BundleError(
                f"The bundle file {name} has {file.stat().st_size} bytes, the manifest says {expected['bytes']} "
                "(truncated or replaced). Re-download or rebuild the bundle."
            )
        if verify and sha256_of(file) != expected["sha256"]:
            raise BundleError(
                f"Checksum mismatch for {name}: the file differs from the one the bundle was built with. "
                "Re-download or rebuild the bundle."
            )
    return manifest


def check_encoder_matches(manifest: Manifest, model_name: str, dim: int, probe_vector: np.ndarray) -> None:
    """Refuse an encoder that is not the one the bundle was built with, saying what differs."""
    built_with = manifest.model
    if dim != manifest.dim:
        raise BundleMismatchError(
            f"Embedding dimension mismatch: the bundle holds {manifest.dim}-d vectors from '{built_with['id']}', "
            f"the encoder '{model_name}' gives {dim}-d vectors. Use the bundle's model or rebuild the bundle."
        )
    if model_name != built_with["id"]:
        raise BundleMismatchError(
            f"Model mismatch: the bundle was built with '{built_with['id']}', the encoder is '{model_name}'. "
            "Use the bundle's model or rebuild the bundle with this one."
        )
    stored = np.asarray(built_with.get("probe", {}).get("vector", []), dtype=np.float32)
    if stored.shape == probe_vector.shape:
        cosine = float(stored @ probe_vector)
        if cosine < PROBE_MIN_COSINE:
            raise BundleMismatchError(
                f"Model mismatch: '{model_name}' does not reproduce the bundle's probe embedding "
                f"(cosine {cosine:.3f} < {PROBE_MIN_COSINE}); its weights differ from those the bundle was built with."
            )


def looks_like_repo_id(source: str) -> bool:
    parts = source.split("/")
    return len(parts) == 2 and all(parts) and not source.startswith((".", "~"))


def resolve_bundle(source: str | Path, revision: str | None = None) -> Path:
    """A local bundle folder as is; a Hub dataset repo id is pulled with snapshot_download (cached)."""
    local = Path(source).expanduser()
    if local.exists() or not looks_like_repo_id(str(source)):
        if not local.exists():
            raise BundleError(f"Index bundle not found: {source} is neither a folder nor a Hub repo id (user/name).")
        return local
    try:
        return Path(snapshot_download(str(source), repo_type="dataset", revision=revision))
    except Exception as error:  # network, auth and missing-repo errors all end here
        raise HubError(
            f"Could not download the index bundle '{source}' from the Hugging Face Hub "
            f"({type(error).__name__}). If you are offline, point --index (or SEARCH_INDEX) at a local bundle "
            "folder, e.g. one built with `python index_build.py --out build/fashion-index`."
        ) from error


def push_bundle(folder: Path, repo_id: str, private: bool = False) -> str:
    """Create (or reuse) a Hub dataset repo and upload the bundle; the token comes from the usual HF login/env."""
    read_manifest(folder)
    try:
        create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type="dataset",
            commit_message=f"Update index bundle ({datetime.now(timezone.utc).date().isoformat()})",
        )
    except Exception as error:  # network, auth, quota: the local bundle is untouched either way
        raise HubError(
            f"Pushing to '{repo_id}' failed ({type(error).__name__}: {error}). The local bundle at {folder} is "
            f"intact; log in with `hf auth login` (or set HF_TOKEN) and retry with "
            f"`python index_build.py --out {folder} --push-to {repo_id} --push-only`."
        ) from error
    url = getattr(info, "commit_url", None) or f"https://huggingface.co/datasets/{repo_id}"
    logger.info("Pushed bundle to %s", url)
    return str(url)
