"""Images sent by visitors and API clients: only files Gradio received as uploads are read."""

from pathlib import Path

from gradio import FileData
from gradio.utils import get_upload_folder

from search import InvalidImageError


def uploaded_path(payload: FileData | dict | None) -> str:
    """The server path of an uploaded image; only files Gradio received as uploads are accepted, so a client
    cannot make the app read other files on the server."""
    path = payload.get("path") if isinstance(payload, dict) else getattr(payload, "path", None)
    if not path:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(get_upload_folder()).resolve()):
        raise InvalidImageError(
            "Images must be uploaded as files (with gradio_client: handle_file('photo.jpg')); server paths are "
            "not accepted."
        )
    return str(resolved)
