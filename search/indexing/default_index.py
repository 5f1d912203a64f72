"""The embedded default index, so that `python app.py` serves something with no setup at all.

With no bundle configured, the app serves the Hub default — the first 2,000 products of the default dataset with the
default model, built once with the regular build pipeline and cached — when the Hub answers; otherwise, at once, the
demo: the real products shipped in assets/demo/ with the small CLIP trained on real photos (built in seconds at first
start and cached; assets/demo/README.md). `--index demo` (SEARCH_INDEX=demo) asks for the demo on purpose.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import huggingface_hub

from search.bundle import is_bundle, read_manifest
from search.catalog.schema import DEFAULT_DATASET
from search.encoding.encoder import DEFAULT_MODEL
from search.encoding.onnx_export import adopt_export
from search.errors import BundleError, CatalogError, HubError, ModelLoadError
from search.indexing.config import BuildConfig
from search.indexing.runner import run_build
from search.offline import offline_unless_hub_resolves
from search.paths import user_cache_dir
from search.version import __version__

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 2_000
HUB_TIMEOUT_S = 10
# The index name that selects the demo (app.py --index, SEARCH_INDEX).
DEMO_INDEX = "demo"
DEMO_DIR = Path(__file__).resolve().parents[2] / "assets" / "demo"
DEMO_CATALOG = DEMO_DIR / "catalog"
DEMO_MODEL = DEMO_DIR / "small-clip"
# The demo model's ONNX towers ship with it: exporting them at first start takes 15–80 s on 2 cores, and PyTorch
# eager instead is ~100× slower per text query on a busy machine (docs/BENCHMARKS.md).
ONNX_FOLDER = "onnx"


class DefaultIndexError(HubError):
    """The default index is not cached and its dataset or model cannot be downloaded."""


def default_index(cache_dir: Path | None = None) -> Path | str:
    """The Hub default's folder when it is cached or the Hub can give it; otherwise, with one warning saying why,
    DEMO_INDEX (ensure_demo_bundle gives its folder)."""
    try:
        return ensure_default_bundle(cache_dir)
    except DefaultIndexError as error:
        logger.warning("%s Serving the demo catalog instead.", error)
        return DEMO_INDEX


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
    damaged). A dataset or model that cannot be fetched becomes one DefaultIndexError saying what failed; a Hub
    that cannot even be resolved is known in milliseconds (search.offline), not after the downloads' retries."""
    out = default_bundle_folder(cache_dir or user_cache_dir(), dataset, model, limit)
    if _usable(out):
        return out
    logger.info(
        "No index given (--index / SEARCH_INDEX): building a default index of the first %d products of %s with %s "
        "into %s. This happens once; later starts reuse it.",
        limit,
        dataset,
        model,
        out,
    )
    offline_unless_hub_resolves()
    check_hub_sources(dataset, model)
    try:
        report = run_build(BuildConfig(out=out, dataset=dataset, model=model, limit=limit))
    except CatalogError as error:
        raise DefaultIndexError(_unavailable_message("dataset", dataset, error.__cause__ or error)) from error
    except ModelLoadError as error:
        raise DefaultIndexError(_unavailable_message("model", model, error.__cause__ or error)) from error
    logger.info(report.summary())
    return out


def ensure_demo_bundle(cache_dir: Path | None = None, catalog: Path = DEMO_CATALOG, model: Path = DEMO_MODEL) -> Path:
    """The demo bundle: the shipped catalog and model, built once (seconds) into a cache folder named by their
    content, so a changed catalog or model is built afresh and an unchanged one never again."""
    out = (cache_dir or user_cache_dir()) / f"demo-{demo_key(catalog, model)}"
    if _usable(out):
        return out
    logger.info("Building the demo index of %s with %s into %s (once; later starts reuse it).", catalog, model, out)
    if (model / ONNX_FOLDER).is_dir():
        adopt_export(model / ONNX_FOLDER, model)
    config = BuildConfig(out=out, dataset=str(catalog), model=str(model), export_onnx=True, num_workers=0)
    logger.info(run_build(config).summary())
    return out


def demo_key(catalog: Path, model: Path) -> str:
    """A short hash of the code version, the folders' paths (the manifest records the model's) and every file's
    name and bytes."""
    digest = hashlib.sha256(__version__.encode())
    for folder in (catalog, model):
        folder = folder.resolve()
        digest.update(f"{folder}\n".encode())
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder)}\0{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_notice(num_products: int) -> str:
    """What the page and the log say while the demo is served: what it is and how to load a full index."""
    return (
        f"This is the {num_products:,}-product demo: real products of the Kaggle “Fashion Product Images” catalog, "
        "searched by a small CLIP trained on their photos. To search a full catalog, start the app with "
        "`--index` (or `SEARCH_INDEX`) set to an index bundle folder or Hub dataset repo (README: “Build an index "
        "bundle”)."
    )


def _usable(out: Path) -> bool:
    """Whether `out` holds a bundle that verifies; a damaged one is said and built again."""
    if not is_bundle(out):
        return False
    try:
        read_manifest(out)
    except BundleError as error:
        logger.warning("The cached index %s is damaged (%s); building it again.", out, error)
        return False
    logger.info("Using the cached index %s", out)
    return True


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
        f"({type(cause).__name__}{': ' + reason if reason else ''})."
    )
