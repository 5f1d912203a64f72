"""Draw the app's example product photos (studio-style renders made with PIL; no downloaded images).

python assets/make_examples.py    # rewrites the JPEGs in assets/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

SIZE = (360, 480)
SCALE = 2  # drawn at twice the size, then downsampled: smooth edges
BACKGROUND = (246, 245, 243)
Colour = tuple[int, int, int]
Shape = Callable[[ImageDraw.ImageDraw], None]


def _scaled(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(x * SCALE, y * SCALE) for x, y in points]


def _shade(colour: Colour, factor: float) -> Colour:
    return tuple(max(0, min(255, round(c * factor))) for c in colour)


def _lit(mask: Image.Image, colour: Colour) -> Image.Image:
    """The colour lit from the top left: a diagonal gradient from lighter to darker, inside the mask."""
    width, height = mask.size
    side = int((width**2 + height**2) ** 0.5) + 2
    ramp = Image.linear_gradient("L").resize((side, side)).rotate(35)
    left, top = (side - width) // 2, (side - height) // 2
    ramp = ramp.crop((left, top, left + width, top + height))
    light = Image.new("RGB", mask.size, _shade(colour, 1.18))
    dark = Image.new("RGB", mask.size, _shade(colour, 0.72))
    return Image.composite(dark, light, ramp)


def render(shape: Shape, colour: Colour, details: Shape | None = None) -> Image.Image:
    """A product on a studio background: soft floor shadow, shaded body, then darker detail lines on top."""
    width, height = SIZE[0] * SCALE, SIZE[1] * SCALE
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    mask = Image.new("L", (width, height), 0)
    shape(ImageDraw.Draw(mask))
    shadow = mask.point(lambda value: 70 if value else 0).filter(ImageFilter.GaussianBlur(18 * SCALE))
    shadow = ImageChops.offset(shadow, 6 * SCALE, 10 * SCALE)
    canvas.paste(Image.new("RGB", canvas.size, (200, 198, 194)), mask=shadow)
    canvas.paste(_lit(mask, colour), mask=mask)
    if details:
        details(ImageDraw.Draw(canvas))
    return canvas.resize(SIZE, Image.LANCZOS)


def tshirt(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(
        _scaled(
            [
                *[(60, 120), (135, 78), (155, 78), (180, 98), (205, 78), (225, 78), (300, 120), (276, 190)],
                *[(250, 178), (250, 400), (110, 400), (110, 178), (84, 190)],
            ]
        ),
        fill=255,
    )


def tshirt_details(colour: Colour) -> Shape:
    def draw_details(draw: ImageDraw.ImageDraw) -> None:
        seam = _shade(colour, 0.6)
        draw.arc(_scaled([(150, 60), (210, 112)]), 20, 160, fill=seam, width=4 * SCALE)
        draw.line(_scaled([(110, 178), (110, 400)]), fill=seam, width=SCALE)
        draw.line(_scaled([(250, 178), (250, 400)]), fill=seam, width=SCALE)
        draw.line(_scaled([(113, 388), (247, 388)]), fill=seam, width=SCALE)

    return draw_details


def jeans(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(
        _scaled(
            [(110, 60), (250, 60), (262, 200), (272, 430), (200, 430), (182, 170), (162, 430), (88, 430), (98, 200)]
        ),
        fill=255,
    )


def jeans_details(draw: ImageDraw.ImageDraw) -> None:
    stitch = (214, 160, 80)
    draw.line(_scaled([(110, 82), (250, 82)]), fill=stitch, width=SCALE * 2)
    draw.line(_scaled([(182, 82), (182, 170)]), fill=(30, 45, 80), width=SCALE * 2)
    draw.arc(_scaled([(112, 84), (160, 130)]), 0, 90, fill=stitch, width=SCALE * 2)
    draw.arc(_scaled([(204, 84), (252, 130)]), 90, 180, fill=stitch, width=SCALE * 2)
    draw.ellipse(_scaled([(177, 68), (187, 78)]), fill=(200, 170, 90))


def dress(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(
        _scaled([(150, 60), (165, 60), (180, 84), (195, 60), (210, 60), (222, 170), (300, 430), (60, 430), (138, 170)]),
        fill=255,
    )


def dress_details(colour: Colour) -> Shape:
    def draw_details(draw: ImageDraw.ImageDraw) -> None:
        draw.line(_scaled([(140, 172), (220, 172)]), fill=_shade(colour, 0.55), width=6 * SCALE)
        for x in (120, 160, 200, 240):
            draw.line(_scaled([(180, 190), (x, 420)]), fill=_shade(colour, 0.85), width=SCALE)

    return draw_details


def boots(draw: ImageDraw.ImageDraw) -> None:
    for dx in (0, 110):
        draw.polygon(
            _scaled([(60 + dx, 90), (140 + dx, 90), (145 + dx, 300), (200 + dx, 330), (205 + dx, 380), (55 + dx, 380)]),
            fill=255,
        )


def boots_details(draw: ImageDraw.ImageDraw) -> None:
    for dx in (0, 110):
        draw.rectangle(_scaled([(52 + dx, 372), (208 + dx, 392)]), fill=(60, 45, 35))
        draw.line(_scaled([(60 + dx, 110), (140 + dx, 110)]), fill=(90, 90, 90), width=SCALE * 2)
        for y in range(140, 290, 30):
            draw.line(_scaled([(95 + dx, y), (115 + dx, y + 12)]), fill=(150, 150, 150), width=SCALE * 2)


def sneakers(draw: ImageDraw.ImageDraw) -> None:
    for dy in (0, 150):
        draw.polygon(
            _scaled(
                [(40, 230 + dy), (150, 180 + dy), (190, 200 + dy), (300, 250 + dy), (320, 300 + dy), (40, 300 + dy)]
            ),
            fill=255,
        )


def sneakers_details(draw: ImageDraw.ImageDraw) -> None:
    for dy in (0, 150):
        draw.rectangle(_scaled([(36, 296 + dy), (324, 312 + dy)]), fill=(210, 210, 210))
        draw.line(_scaled([(110, 270 + dy), (220, 230 + dy), (300, 290 + dy)]), fill=(40, 90, 200), width=5 * SCALE)
        for x in (160, 175, 190):
            draw.line(_scaled([(x, 195 + dy), (x + 12, 215 + dy)]), fill=(150, 150, 150), width=SCALE * 2)


def handbag(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(_scaled([(70, 200), (290, 200), (320, 420), (40, 420)]), fill=255)
    draw.arc(_scaled([(110, 90), (250, 250)]), 180, 360, fill=255, width=14 * SCALE)


def handbag_details(draw: ImageDraw.ImageDraw) -> None:
    draw.line(_scaled([(58, 260), (302, 260)]), fill=(90, 50, 20), width=SCALE * 2)
    draw.rectangle(_scaled([(168, 250), (192, 276)]), fill=(210, 180, 90))


def watch(draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle(_scaled([(148, 40), (212, 440)]), fill=255)
    draw.ellipse(_scaled([(100, 160), (260, 320)]), fill=255)


def watch_details(draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_scaled([(116, 176), (244, 304)]), fill=(250, 248, 240), outline=(120, 100, 50), width=3 * SCALE)
    for angle_point in ((180, 190), (180, 290), (130, 240), (230, 240)):
        x, y = angle_point
        draw.ellipse(_scaled([(x - 4, y - 4), (x + 4, y + 4)]), fill=(60, 60, 60))
    draw.line(_scaled([(180, 240), (180, 200)]), fill=(30, 30, 30), width=3 * SCALE)
    draw.line(_scaled([(180, 240), (212, 256)]), fill=(30, 30, 30), width=3 * SCALE)


def placeholder(draw: ImageDraw.ImageDraw) -> None:
    draw.rounded_rectangle(_scaled([(90, 150), (270, 330)]), radius=20 * SCALE, fill=255)


def placeholder_details(draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse(_scaled([(150, 200), (210, 260)]), outline=(250, 250, 250), width=6 * SCALE)
    draw.rectangle(_scaled([(120, 180), (150, 196)]), fill=(250, 250, 250))


RED, DENIM, YELLOW, BLACK = (196, 36, 44), (52, 84, 150), (236, 190, 50), (40, 38, 38)
WHITE, BROWN, GOLD, GREY = (238, 238, 236), (140, 82, 42), (205, 165, 70), (190, 190, 190)
PRODUCTS: dict[str, tuple[Shape, Colour, Shape | None]] = {
    "red-tshirt.jpg": (tshirt, RED, tshirt_details(RED)),
    "blue-jeans.jpg": (jeans, DENIM, jeans_details),
    "yellow-dress.jpg": (dress, YELLOW, dress_details(YELLOW)),
    "black-boots.jpg": (boots, BLACK, boots_details),
    "white-sneakers.jpg": (sneakers, WHITE, sneakers_details),
    "brown-handbag.jpg": (handbag, BROWN, handbag_details),
    "gold-watch.jpg": (watch, GOLD, watch_details),
    "no-photo.jpg": (placeholder, GREY, placeholder_details),
}


def main() -> None:
    folder = Path(__file__).parent
    for name, (shape, colour, details) in PRODUCTS.items():
        render(shape, colour, details).save(folder / name, quality=88, optimize=True)


if __name__ == "__main__":
    main()
