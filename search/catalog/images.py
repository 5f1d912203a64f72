"""Safe image decoding: every input becomes an upright RGB PIL image or a clear InvalidImageError.

Every limit is checked from the header, before any pixel is decoded: the decoded size (MAX_IMAGE_PIXELS) and the
size after the model's resize, which scales the short side up or down to its input size and so grows with the
aspect ratio (a 2 KB 8 × 1,000,000 px PNG would become 224 × 28 million px). Given the model's input size
(`edge`), an image is decoded and converted at that size (JPEGs are decoded scaled down; 16-bit, 1-bit and
palette images are converted after the resize), so a small file never costs the memory of its full resolution.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from search.errors import InvalidImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MIN_IMAGE_SIDE = 8
# Long side ÷ short side. The model scales the short side to its input size and sees a centred square of it, so
# a longer image costs memory in proportion and shows the model less than 1/20 of itself: not a product photo.
MAX_ASPECT_RATIO = 20
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")

ImageInput = Image.Image | bytes | bytearray | memoryview | str | os.PathLike[str] | np.ndarray


def _open(data: bytes) -> Image.Image:
    if not data:
        raise InvalidImageError("The image file is empty (0 bytes). Upload a JPEG, PNG or WebP photo.")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImageError(_too_many_bytes_message(len(data)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        if isinstance(error, UnidentifiedImageError):
            raise InvalidImageError(
                "This file is not an image that can be read (supported: JPEG, PNG, WebP, GIF, BMP, TIFF)."
            ) from error
        raise InvalidImageError(_too_many_pixels_message()) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(_corrupt_message(error)) from error
    return image


def read_image_file(path: Path, name: str | None = None) -> bytes:
    """The bytes of an image file (`name`: how messages call it, by default its file name), read only from a
    regular file and never beyond MAX_IMAGE_BYTES: a FIFO, a device (/dev/zero) or a folder is refused without
    reading (opened non-blocking, so a FIFO cannot hang the caller), and a file that grows while it is read is cut
    at the limit and refused."""
    name = name or path.name
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as error:
        raise InvalidImageError(f"Image file not found: {name}") from error
    except OSError as error:
        raise InvalidImageError(f"The image file {name} cannot be read ({error.strerror or error}).") from error
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise InvalidImageError(f"{name} is not a regular file (a FIFO, device or folder), so it is not read.")
        if status.st_size > MAX_IMAGE_BYTES:
            raise InvalidImageError(f"{name}: {_too_many_bytes_message(status.st_size)}")
        with os.fdopen(os.dup(handle), "rb") as file:
            data = file.read(MAX_IMAGE_BYTES + 1)
    except OSError as error:
        raise InvalidImageError(f"The image file {name} cannot be read ({error.strerror or error}).") from error
    finally:
        os.close(handle)
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImageError(f"{name}: {_too_many_bytes_message(len(data))}")
    return data


def _corrupt_message(error: Exception) -> str:
    return f"The image is corrupt or truncated and cannot be decoded ({error}). Try another file."


def _too_many_bytes_message(size: int) -> str:
    return f"The image file is {size / 2**20:.1f} MB; the limit is {MAX_IMAGE_BYTES / 2**20:.0f} MB."


def _too_many_pixels_message(size: tuple[int, int] | None = None) -> str:
    shown = f" ({size[0]}×{size[1]} px)" if size else ""
    return f"The image is too large{shown}: at most {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are accepted."


def _check_size(size: tuple[int, int], edge: int | None = None) -> None:
    """Refuse a (width, height) that would cost too much memory decoded or after the resize to `edge`, or that
    is too small to read."""
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidImageError(_too_many_pixels_message(size))
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidImageError(
            f"The image is too small to search with ({width}×{height} px); it needs at least "
            f"{MIN_IMAGE_SIDE} px on each side."
        )
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_ASPECT_RATIO or (edge and edge * edge * ratio > MAX_IMAGE_PIXELS):
        raise InvalidImageError(
            f"The image is {width}×{height} px: its long side is {ratio:,.0f} times its short side; at most "
            f"{MAX_ASPECT_RATIO}:1 is accepted (the model scales the short side to its input size and sees a "
            "centred square). Crop the photo to the product."
        )


def resized_size(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """(width, height) with the short side scaled to `edge`, as CLIP-family image processors compute it."""
    width, height = size
    if width <= height:
        return edge, int(edge * height / width)
    return int(edge * width / height), edge


def processor_edge(image_processor: Any) -> int | None:
    """The short side, in px, a transformers image processor resizes images to (its `size`), or None if unknown."""
    size = getattr(image_processor, "size", None)
    if size is None:
        return None

    def read(key: str) -> int | None:
        value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
        return int(value) if value else None

    edge, height, width = read("shortest_edge"), read("height"), read("width")
    if edge:
        return edge
    return min(height, width) if height and width else None


def _shrink(image: Image.Image, edge: int | None) -> Image.Image:
    """The image with its short side reduced to `edge` (never enlarged), in a mode that resizes smoothly."""
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode == "P":
        image = image.convert("RGBA")
    if edge is None or min(image.size) <= edge:
        return image
    return image.resize(resized_size(image.size, edge), Image.Resampling.BICUBIC)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB; transparent areas become white like a product photo's background."""
    if image.mode in _SIXTEEN_BIT:
        pixels = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        image = Image.fromarray(np.clip(pixels * (255.0 / peak), 0, 255).astype(np.uint8), mode="L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def decode_image(data: bytes, edge: int | None = None) -> Image.Image:
    """Decode encoded image bytes: sizes checked before decoding, first frame, EXIF upright, RGB; with the model's
    input size `edge`, decoded and converted with the short side reduced to it."""
    image = _open(data)
    _check_size(image.size, edge)
    try:
        image.seek(0)
        if edge is not None and image.format == "JPEG":
            width, height = resized_size(image.size, edge)
            image.draft("RGB", (width, height))  # decoded at a scale of 1/2, 1/4 or 1/8 that keeps ≥ edge px
        image.load()
        image = ImageOps.exif_transpose(_shrink(image, edge))  # the resize keeps the EXIF orientation
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(_corrupt_message(error)) from error
    return _to_rgb(image)


def load_image(image: ImageInput, edge: int | None = None) -> Image.Image:
    """Any supported image input (PIL image, bytes, file path, HxWxC array) as a checked RGB image; with `edge`,
    its short side reduced to that size (see decode_image)."""
    if image is None:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    if isinstance(image, Image.Image):
        _check_size(image.size, edge)
        return _to_rgb(ImageOps.exif_transpose(_shrink(image, edge)))
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.size == 0:
            raise InvalidImageError(f"An image array must be H×W or H×W×C, got shape {image.shape}.")
        height, width = image.shape[:2]
        _check_size((width, height), edge)
        array = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        return _to_rgb(_shrink(Image.fromarray(array), edge))
    if isinstance(image, (str, os.PathLike)):
        return decode_image(read_image_file(Path(image)), edge)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_image(bytes(image), edge)
    raise InvalidImageError(f"Unsupported image input of type {type(image).__name__}.")
