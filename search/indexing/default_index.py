"""The embedded default index: with no bundle configured, the app builds a small one from the default dataset and
model once, caches it on disk and reuses it, so `python app.py` works with no setup at all."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import huggingface_hub

from search.bundle import is_bundle, read_manifest
from search.catalog.schema import DEFAULT_DATASET
from search.encoding.encoder import DEFAULT_MODEL
from search.errors import BundleError, CatalogError, HubError, ModelLoadError
from search.indexing import BuildConfig, run_build
from search.paths import user_cache_dir

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 2_000
HUB_TIMEOUT_S = 10


class DefaultIndexError(HubError):
    """The default index is not cached and its dataset or model cannot be downloaded."""


def default_bundle_folder(cache_dir: Path, dataset: str, model: str, limit: int) -> Path:
    """One folder per (dataset, model, limit): readable names plus a hash so different sources never collide."""
    key = f"{dataset}\n{model}\n{limit}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{Path(dataset).name}--{Path(model).name}--{limit}")
    return cache_dir / f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def ensure_default_bundle(
    cache_dir: Path | None = None,
    dataset: str = DEFAULT_DATASET,
    model: str = DEFAULT_MODEL,
    limit: int = DEFAULT_LIMIT,
) -> Path:
    """The cached default bundle, built with the regular build pipeline on first use (or when the cached copy is
    damaged). A dataset or model that cannot be fetched becomes one DefaultIndexError saying what to do."""
    out = default_bundle_folder(cache_dir or user_cache_dir(), dataset, model, limit)
    if is_bundle(out):
        try:
            read_manifest(out)
        except BundleError as error:
            logger.warning("The cached default index is damaged (%s); building it again.", error)
        else:
            logger.info("Using the cached default index %s", out)
            return out
    logger.info(
        "No index given (--index / SEARCH_INDEX): building a default index of the first %d products of %s with %s "
        "into %s. This happens once; later starts reuse it.",
        limit,
        dataset,
        model,
        out,
    )
    check_hub_sources(dataset, model)
    try:
        report = run_build(BuildConfig(out=out, dataset=dataset, model=model, limit=limit))
    except CatalogError as error:
        raise DefaultIndexError(_unavailable_message("dataset", dataset, error.__cause__ or error)) from error
    except ModelLoadError as error:
        raise DefaultIndexError(_unavailable_message("model", model, error.__cause__ or error)) from error
    logger.info(report.summary())
    return out


def check_hub_sources(dataset: str, model: str) -> None:
    """Ask the Hub once about each Hub source, so an unreachable Hub fails in a second with one message instead
    of after the downloads' retries. Offline mode is left to the build, which may find the sources cached."""
    if huggingface_hub.constants.HF_HUB_OFFLINE:
        return
    api = huggingface_hub.HfApi()
    for kind, name, info in (("dataset", dataset, api.dataset_info), ("model", model, api.model_info)):
        if Path(name).expanduser().exists():
            continue
        try:
            info(name, timeout=HUB_TIMEOUT_S)
        except Exception as error:  # connection, unknown repo, auth: huggingface_hub raises many types
            raise DefaultIndexError(_unavailable_message(kind, name, error)) from error


def _unavailable_message(kind: str, name: str, cause: BaseException) -> str:
    reason = str(cause).splitlines()[0][:200] if str(cause) else ""
    return (
        f"No index was given and the default one could not be built: the {kind} '{name}' could not be loaded "
        f"({type(cause).__name__}{': ' + reason if reason else ''}). If the Hugging Face Hub is unreachable, start "
        "the app with a local index bundle: `python app.py --index path/to/bundle` (or set SEARCH_INDEX=path/to/"
        "bundle); build one offline with `python index_build.py --dataset <local parquet folder> --model <local "
        "model folder> --out build/fashion-index`."
    )
