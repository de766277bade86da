"""Draws Gapo's app icons into static/icons/ with Pillow: run once, the files are committed.

`python scripts/make_icons.py` rewrites icon-192.png, icon-512.png, icon-maskable-512.png
and favicon.ico. The mark is a white speech bubble on the accent blue; the maskable one
fills its square and keeps the mark inside the central 80 % circle that launchers keep.
The SVG favicon (icon.svg) is written by hand beside them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (29, 78, 216, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def _bubble(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The speech bubble, `scale` of the icon's side wide, centred."""
    side = size * scale
    left = (size - side) / 2
    top = (size - side * 0.82) / 2
    box = (left, top, left + side, top + side * 0.62)
    draw.rounded_rectangle(box, radius=side * 0.18, fill=WHITE)
    tail = [
        (left + side * 0.22, box[3] - 1),
        (left + side * 0.46, box[3] - 1),
        (left + side * 0.18, box[3] + side * 0.2),
    ]
    draw.polygon(tail, fill=WHITE)
    # Three dots of "typing", in the accent colour.
    dot = side * 0.075
    middle_y = (box[1] + box[3]) / 2
    for n in (-1, 0, 1):
        cx = size / 2 + n * side * 0.22
        draw.ellipse((cx - dot, middle_y - dot, cx + dot, middle_y + dot), fill=ACCENT)


def icon(size: int, *, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=ACCENT)
        _bubble(draw, size, 0.5)
    else:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.22, fill=ACCENT)
        _bubble(draw, size, 0.66)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    icon(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    icon(64, maskable=False).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
