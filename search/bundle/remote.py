"""Bundles on the Hugging Face Hub: a dataset repo id is pulled with snapshot_download, a local bundle pushed with
create_repo + upload_folder. The token comes from the usual login or HF_TOKEN and is never read here."""

from __future__ import annotations

import logging
from pathlib import Path

from huggingface_hub import snapshot_download

from search.bundle.store import Bundle
from search.errors import BundleError, HubError
from search.hub_upload import LOGIN, upload

logger = logging.getLogger(__name__)


def looks_like_repo_id(source: str) -> bool:
    """ "user/name" and nothing else: a path that merely has one slash in it but exists locally is a folder."""
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
            "folder, e.g. one built offline with `python index_build.py --dataset assets/demo/catalog --model "
            "assets/demo/small-clip --out build/demo-index`, or serve the demo with `--index demo`."
        ) from error


def push_bundle(folder: Path, repo_id: str, private: bool = False) -> str:
    """Create (or reuse) a Hub dataset repo and upload the bundle, after loading it in full (checksums, index,
    products, keyword index): a bundle that would not load is never pushed. The commit message is the bundle's
    change report, so the repo's history reads as the catalog's. Returns the commit URL."""
    changes = Bundle.load(folder).manifest.changes
    if_failed = (
        f"The local bundle at {folder} is intact; {LOGIN} and retry with "
        f"`python index_build.py --out {folder} --push-to {repo_id} --push-only`."
    )
    message = f"Index bundle: {changes.summary()}" if changes is not None else "Update index bundle"
    return upload(folder, repo_id, "dataset", message, if_failed, private=private)
