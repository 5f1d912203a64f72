"""Every kind of image input becomes an upright RGB image or a specific InvalidImageError."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from search.catalog.images import MAX_IMAGE_BYTES, decode_image, load_image, processor_edge
from search.errors import InvalidImageError


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size: a decompression bomb that must be refused before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_zero_byte_file():
    with pytest.raises(InvalidImageError, match="empty \\(0 bytes\\)"):
        decode_image(b"")


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_text("this is not a picture")
    with pytest.raises(InvalidImageError, match="not an image that can be read"):
        load_image(path)


def test_truncated_jpeg():
    data = encode(Image.new("RGB", (200, 200), "red"), "JPEG")
    with pytest.raises(InvalidImageError, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_by_pixel_count():
    with pytest.raises(InvalidImageError, match="too large \\(30000×30000 px\\)|too large"):
        decode_image(png_header_only(30000, 30000))


def test_oversized_upload_is_refused():
    with pytest.raises(InvalidImageError, match="the limit is 20 MB"):
        decode_image(b"\xff" * (MAX_IMAGE_BYTES + 1))


def test_one_pixel_image_is_explained():
    with pytest.raises(InvalidImageError, match="too small to search with \\(1×1 px\\)"):
        decode_image(encode(Image.new("RGB", (1, 1)), "PNG"))


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (40, 40), (255, 0, 0, 128)),
        Image.new("P", (40, 40), 3),
        Image.new("LA", (40, 40), (100, 50)),
        Image.new("L", (40, 40), 90),
        Image.new("CMYK", (40, 40), (0, 255, 255, 0)),
        Image.fromarray(np.full((40, 40), 40000, dtype=np.uint16)),
    ],
    ids=["RGBA", "P", "LA", "L", "CMYK", "16-bit"],
)
def test_every_mode_becomes_rgb(image):
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"
    decoded = decode_image(encode(image, fmt))
    assert decoded.mode == "RGB" and decoded.size == (40, 40)


def test_transparency_becomes_white():
    decoded = decode_image(encode(Image.new("RGBA", (20, 20), (255, 0, 0, 0)), "PNG"))
    assert decoded.getpixel((5, 5)) == (255, 255, 255)


def test_sixteen_bit_keeps_its_brightness():
    decoded = decode_image(encode(Image.fromarray(np.full((20, 20), 65535, dtype=np.uint16)), "PNG"))
    assert decoded.getpixel((3, 3)) == (255, 255, 255)


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (30, 30), colour) for colour in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    decoded = decode_image(buffer.getvalue())
    red, _green, blue = decoded.getpixel((10, 10))
    assert red > 200 and blue < 50


def test_exif_orientation_is_respected():
    image = Image.new("RGB", (60, 30), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    decoded = decode_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert decoded.size == (30, 60)


def test_arrays_paths_and_pil_images_are_accepted(tmp_path):
    array = np.zeros((32, 48, 3), dtype=np.uint8)
    assert load_image(array).size == (48, 32)
    path = tmp_path / "shirt.png"
    Image.new("RGB", (24, 24), "blue").save(path)
    assert load_image(str(path)).getpixel((1, 1)) == (0, 0, 255)
    assert load_image(Image.new("L", (16, 16))).mode == "RGB"


def test_only_regular_files_are_read_by_path(tmp_path):
    """/dev/zero was read until MemoryError; a FIFO blocked the reader until something wrote to it."""
    os.mkfifo(tmp_path / "pipe.png")
    for path in ("/dev/zero", tmp_path / "pipe.png", tmp_path):
        with pytest.raises(InvalidImageError, match="is not a regular file"):
            load_image(path)


def test_missing_path_and_wrong_types_are_explained(tmp_path):
    with pytest.raises(InvalidImageError, match="Image file not found: gone.png"):
        load_image(tmp_path / "gone.png")
    with pytest.raises(InvalidImageError, match="Unsupported image input of type dict"):
        load_image({"url": "x"})
    with pytest.raises(InvalidImageError, match="H×W or H×W×C"):
        load_image(np.zeros((2, 2, 2, 2), dtype=np.uint8))


def test_jpeg_cut_inside_its_header():
    data = encode(Image.new("RGB", (300, 300), "red"), "JPEG", exif=Image.Exif().tobytes())
    with pytest.raises(InvalidImageError, match="corrupt or truncated"):
        decode_image(data[:30])


def one_bit_png(width: int, height: int) -> bytes:
    """A 1-bit PNG: a few KB even at a million pixels long."""
    return encode(Image.new("1", (width, height), 1), "PNG")


@pytest.mark.parametrize(("width", "height"), [(8, 1_000_000), (100_000, 8), (21, 440)])
def test_thin_images_are_refused_from_the_header(width, height):
    data = one_bit_png(width, height)
    assert len(data) < 3_000
    with pytest.raises(InvalidImageError, match=f"{width}×{height} px: its long side is .* at most 20:1"):
        decode_image(data, edge=224)
    with pytest.raises(InvalidImageError, match="at most 20:1"):
        decode_image(data)


def test_the_size_after_the_resize_is_bounded_for_any_model_size():
    data = encode(Image.new("RGB", (200, 3_000), "white"), "PNG")  # 15:1, fine for a 224 px model
    assert decode_image(data, edge=224).size == (200, 3_000)  # never enlarged here: the processor does that
    with pytest.raises(InvalidImageError, match="200×3000 px"):
        decode_image(data, edge=2_048)  # 2048 × 30,720 px after the resize: over 40 megapixels


def test_sixteen_bit_greyscale_is_converted_at_the_model_size():
    pixels = np.full((6_300, 6_300), 65535, dtype=np.uint16)
    pixels[:, :3_150] = 0
    decoded = decode_image(encode(Image.fromarray(pixels), "PNG", compress_level=1), edge=224)
    assert decoded.mode == "RGB" and decoded.size == (224, 224)
    assert decoded.getpixel((10, 100)) == (0, 0, 0) and decoded.getpixel((200, 100)) == (255, 255, 255)


def test_one_bit_and_palette_images_are_resized_smoothly():
    stripes = Image.new("1", (400, 400), 0)
    stripes.paste(1, (0, 0, 400, 400), mask=Image.frombytes("1", (400, 400), bytes([0b01010101] * 20_000)))
    decoded = decode_image(encode(stripes, "PNG"), edge=40)
    assert decoded.size == (40, 40)
    assert 100 < decoded.getpixel((20, 20))[0] < 155  # one-pixel stripes average to grey, not to black or white


def test_jpegs_are_decoded_scaled_down_to_the_model_size():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (3_000, 2_000, 3), dtype=np.uint8))
    decoded = decode_image(encode(photo, "JPEG"), edge=224)
    assert decoded.size == (224, 336)


def test_decoding_at_the_model_size_gives_the_processor_the_same_pixels(tiny_model):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model).image_processor
    edge = processor_edge(processor)
    photo = Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 200, 3), dtype=np.uint8))
    data = encode(photo, "PNG")
    full = processor(images=[decode_image(data)], return_tensors="np")["pixel_values"]
    reduced = decode_image(data, edge)
    assert min(reduced.size) == edge == 32
    np.testing.assert_array_equal(processor(images=[reduced], return_tensors="np")["pixel_values"], full)


def test_processor_edge_reads_shortest_edge_or_the_fixed_size():
    from transformers import CLIPImageProcessorPil, SiglipImageProcessorPil

    assert processor_edge(CLIPImageProcessorPil(size={"shortest_edge": 224})) == 224
    assert processor_edge(SiglipImageProcessorPil(size={"height": 384, "width": 256})) == 256
    assert processor_edge(object()) is None


def test_images_given_as_objects_obey_the_same_limits():
    with pytest.raises(InvalidImageError, match="at most 20:1"):
        load_image(np.zeros((8, 400), dtype=np.uint8))
    with pytest.raises(InvalidImageError, match="at most 20:1"):
        load_image(Image.new("1", (8, 400)), edge=32)
    assert load_image(Image.new("RGB", (320, 640)), edge=32).size == (32, 64)
