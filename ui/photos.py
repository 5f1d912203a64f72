"""Product photos as files that Gradio serves (the gallery, the details panel and the API's image links)."""

import io
import uuid
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from search import InvalidImageError, SearchEngine, decode_image
from ui.settings import ASSETS, PLACEHOLDER

BROWSER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


class ProductImages:
    """Product photos as files in Gradio's upload folder, which Gradio serves: each product's stored image is
    written once as stored (no re-encoding), named by its product id, so no user input ever becomes a path."""

    def __init__(self, engine: SearchEngine, upload_folder: Path) -> None:
        self.engine = engine
        self.folder = upload_folder / f"products-{engine.fingerprint}"
        self._paths: dict[int, str] = {}

    def path(self, product_id: int) -> str:
        """The file of the product's photo (a placeholder when the catalog has none or it cannot be read)."""
        known = self._paths.get(product_id)
        if known and Path(known).is_file():
            return known
        data = self.engine.product_photo_bytes(product_id)
        path = self._write(str(product_id), data) if data else None
        self._paths[product_id] = path or self._placeholder()
        return self._paths[product_id]

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
