"""Safe image decoding: every input becomes an upright RGB PIL image or a clear InvalidImageError."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from search.errors import InvalidImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MIN_IMAGE_SIDE = 8

ImageInput = Image.Image | bytes | str | Path | np.ndarray


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


def _corrupt_message(error: Exception) -> str:
    return f"The image is corrupt or truncated and cannot be decoded ({error}). Try another file."


def _too_many_bytes_message(size: int) -> str:
    return f"The image file is {size / 2**20:.1f} MB; the limit is {MAX_IMAGE_BYTES / 2**20:.0f} MB."


def _too_many_pixels_message(size: tuple[int, int] | None = None) -> str:
    shown = f" ({size[0]}×{size[1]} px)" if size else ""
    return f"The image is too large{shown}: at most {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are accepted."


def _check_size(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidImageError(_too_many_pixels_message(image.size))
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidImageError(
            f"The image is too small to search with ({width}×{height} px); it needs at least "
            f"{MIN_IMAGE_SIDE} px on each side."
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB; transparent areas become white like a product photo's background."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        image = Image.fromarray(np.clip(pixels / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def decode_image(data: bytes) -> Image.Image:
    """Decode encoded image bytes: pixel count checked before decoding, first frame, EXIF upright, RGB."""
    image = _open(data)
    _check_size(image)
    try:
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(_corrupt_message(error)) from error
    return _to_rgb(image)


def load_image(image: ImageInput) -> Image.Image:
    """Any supported image input (PIL image, bytes, file path, HxWxC array) as a checked RGB image."""
    if image is None:
        raise InvalidImageError("No image was given. Upload, paste or take a photo first.")
    if isinstance(image, Image.Image):
        _check_size(image)
        return _to_rgb(ImageOps.exif_transpose(image))
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.size == 0:
            raise InvalidImageError(f"An image array must be H×W or H×W×C, got shape {image.shape}.")
        array = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        pil = Image.fromarray(array)
        _check_size(pil)
        return _to_rgb(pil)
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise InvalidImageError(f"Image file not found: {path.name}")
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise InvalidImageError(_too_many_bytes_message(path.stat().st_size))
        return decode_image(path.read_bytes())
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_image(bytes(image))
    raise InvalidImageError(f"Unsupported image input of type {type(image).__name__}.")
