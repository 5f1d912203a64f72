"""Images sent by visitors and API clients: only files Gradio received as uploads, in this instance's own upload
folder, are read."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from gradio import FileData
from gradio.utils import get_upload_folder

from search import InvalidImageError

NOT_AN_UPLOAD = (
    "Images must be uploaded as files (with gradio_client: handle_file('photo.jpg')); server paths are not accepted."
)


def use_own_upload_folder() -> Path:
    """Give this process an upload folder of its own inside Gradio's temp folder (GRADIO_TEMP_DIR, else the
    system's): two app instances on one machine then never sweep, or read, each other's uploads. Call it before the
    demo is built; the folder is removed when the process exits."""
    base = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="instance-", dir=base))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def uploaded_path(payload: FileData | dict | None) -> str:
    """The server path of an uploaded image; only files Gradio received as uploads are accepted, so a client
    cannot make the app read other files on the server."""
    if payload is None:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    if not isinstance(payload, (dict, FileData)):
        raise InvalidImageError(f"{NOT_AN_UPLOAD} Got {type(payload).__name__} instead of a file.")
    path = payload.get("path") if isinstance(payload, dict) else payload.path
    if not path:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    if not isinstance(path, str):
        raise InvalidImageError(NOT_AN_UPLOAD)
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(get_upload_folder()).resolve()):
        raise InvalidImageError(NOT_AN_UPLOAD)
    return str(resolved)
