"""Fixtures of the ui unit tests: files as Gradio stores uploads."""

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder

from ui.photo_files import ProductImages


@pytest.fixture
def upload() -> Iterator[Callable[[Path], dict[str, str]]]:
    """The payload the page or the API receives for a file once Gradio has stored it as an upload: a copy in
    Gradio's upload folder, in a folder of its own as Gradio makes them (removed after the test)."""
    folders = []

    def stored(path: Path) -> dict[str, str]:
        folders.append(Path(get_upload_folder()) / f"test-{uuid.uuid4().hex}")
        folders[-1].mkdir(parents=True)
        return {"path": str(shutil.copy(path, folders[-1] / path.name))}

    yield stored
    for folder in folders:
        shutil.rmtree(folder)


@pytest.fixture
def photos(engine, tmp_path) -> ProductImages:
    return ProductImages(engine, tmp_path)
