"""Uploads to the Hugging Face Hub: one way to create (or reuse) a repo and upload a folder, used for index bundles
and fine-tuned models. The token comes from the usual login or HF_TOKEN and is never read here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from huggingface_hub import create_repo, upload_folder

from search.errors import HubError

logger = logging.getLogger(__name__)


LOGIN = "log in with `hf auth login` (or set HF_TOKEN)"


def upload(
    folder: Path,
    repo_id: str,
    repo_type: str,
    message: str,
    if_failed: str,
    private: bool = False,
    ignore_patterns: Sequence[str] = (),
) -> str:
    """Create the repo if needed and upload `folder` as one commit; returns the commit URL. Any failure (network,
    auth, quota) becomes a HubError ending with `if_failed` (what is intact, how to retry)."""
    try:
        create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        info = upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type=repo_type,
            ignore_patterns=list(ignore_patterns) or None,
            commit_message=f"{message} ({datetime.now(timezone.utc).date().isoformat()})",
        )
    except Exception as error:  # huggingface_hub raises many types; the local folder is untouched either way
        raise HubError(f"Pushing to '{repo_id}' failed ({type(error).__name__}: {error}). {if_failed}") from error
    prefix = "datasets/" if repo_type == "dataset" else ""
    url = getattr(info, "commit_url", None) or f"https://huggingface.co/{prefix}{repo_id}"
    logger.info("Pushed %s to %s", folder, url)
    return str(url)
