"""Push a fine-tuned model folder to a Hub model repo (its training/ work folder stays local)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from huggingface_hub import create_repo, upload_folder

from search.errors import HubError

logger = logging.getLogger(__name__)


def push_model(folder: Path, repo_id: str, work_dir_name: str, private: bool = False) -> str:
    """Create (or reuse) the model repo and upload the folder; the token comes from the usual HF login/env."""
    try:
        create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type="model",
            ignore_patterns=[f"{work_dir_name}/"],
            commit_message=f"Fine-tuned model ({datetime.now(timezone.utc).date().isoformat()})",
        )
    except Exception as error:  # network, auth, quota: the local model is untouched either way
        raise HubError(
            f"Pushing to '{repo_id}' failed ({type(error).__name__}: {error}). The model at {folder} is intact; log "
            "in with `hf auth login` (or set HF_TOKEN) and rerun the same command: training and evaluation are "
            "not repeated."
        ) from error
    url = getattr(info, "commit_url", None) or f"https://huggingface.co/{repo_id}"
    logger.info("Pushed the model to %s", url)
    return str(url)
