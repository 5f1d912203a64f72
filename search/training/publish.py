"""Push a fine-tuned model folder to a Hub model repo (its training/ work folder stays local)."""

from __future__ import annotations

from pathlib import Path

from search.hub_upload import LOGIN, upload


def push_model(folder: Path, repo_id: str, work_dir_name: str, private: bool = False) -> str:
    """Create (or reuse) the model repo and upload the folder without its work folder; returns the commit URL."""
    if_failed = f"The model at {folder} is intact; {LOGIN} and rerun the same command: training is not repeated."
    ignore = [f"{work_dir_name}/"]
    return upload(folder, repo_id, "model", "Fine-tuned model", if_failed, private=private, ignore_patterns=ignore)
