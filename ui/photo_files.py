"""Product photos as files that Gradio serves (the gallery, the details panel and the API's image links)."""

import io
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from PIL import Image, UnidentifiedImageError

from search import InvalidImageError, SearchEngine, SearchResult, decode_image
from ui.settings import ASSETS, PLACEHOLDER

BROWSER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


class ProductImages:
    """Product photos as files in a folder of this instance's own, which Gradio serves as a static path: as they
    are, never copied into its cache, and outside the upload folder, so no upload sweep (this instance's or another
    one's on the same machine) deletes a photo while a page or an API response still points at it. Each product's
    stored image is written once as stored (no re-encoding), named by its product id, so no user input ever
    becomes a path. The folder (a new temporary one unless given) goes when the instance does."""

    def __init__(self, engine: SearchEngine, folder: Path | None = None) -> None:
        self.engine = engine
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="fashion-search-photos-"))
            weakref.finalize(self, shutil.rmtree, folder, True)
        self.folder = Path(folder).resolve()
        gr.set_static_paths([self.folder])
        self._paths: dict[int, str | None] = {}

    def of(self, result: SearchResult) -> str:
        """The file of a search result's photo, read at the result's own row (a placeholder when it has none)."""
        return self._photo(result.product_id, lambda: self.engine.result_photo_bytes(result)) or self._placeholder()

    def photo(self, product_id: int) -> str | None:
        """The file of a catalog product's own photo, or None when the catalog has none or it cannot be read."""
        return self._photo(product_id, lambda: self.engine.product_photo_bytes(product_id))

    def _photo(self, product_id: int, read: Callable[[], bytes | None]) -> str | None:
        """The product's photo file, written from `read()` the first time (and again if it was deleted)."""
        if product_id in self._paths:
            known = self._paths[product_id]
            if known is None or Path(known).is_file():
                return known
        data = read()
        self._paths[product_id] = self._write(str(product_id), data) if data else None
        return self._paths[product_id]

    def contains(self, path: str) -> bool:
        """Whether `path` is one of this instance's photo files (e.g. an example photo the page sends back)."""
        resolved = Path(path).resolve()
        return resolved.parent == self.folder and resolved.is_file()

    def _write(self, stem: str, data: bytes) -> str | None:
        """Write bytes browsers can show as they are; other formats are converted to PNG; undecodable -> None."""
        try:
            image_format = Image.open(io.BytesIO(data)).format
        except (UnidentifiedImageError, OSError):
            return None
        if image_format not in BROWSER_FORMATS:
            try:
                buffer = io.BytesIO()
                decode_image(data).save(buffer, format="PNG")
            except InvalidImageError:
                return None
            data, image_format = buffer.getvalue(), "PNG"
        return self._file(f"{stem}.{BROWSER_FORMATS[image_format]}", data)

    def _placeholder(self) -> str:
        return self._file(PLACEHOLDER, (ASSETS / PLACEHOLDER).read_bytes())

    def _file(self, name: str, data: bytes) -> str:
        target = self.folder / name
        if not target.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            staging = self.folder / f"{name}.{uuid.uuid4().hex}.part"
            staging.write_bytes(data)
            staging.replace(target)
        return str(target)
