"""The numpy BlurHash encoder gives the same hashes as the algorithm written out in loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from instance.media.blurhash import BASE83, average_color, encode

# --- The published algorithm, one pixel at a time (slow, plain, and easy to check by eye).


def ref_srgb_to_linear(value: int) -> float:
    v = value / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def ref_linear_to_srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def ref_base83(value: int, length: int) -> str:
    out = ""
    for i in range(1, length + 1):
        out += BASE83[(value // 83 ** (length - i)) % 83]
    return out


def ref_sign_pow(value: float, exp: float) -> float:
    return math.copysign(abs(value) ** exp, value)


def ref_encode(pixels: list[list[tuple[int, int, int]]], xc: int, yc: int) -> str:
    height, width = len(pixels), len(pixels[0])
    factors = []
    for j in range(yc):
        for i in range(xc):
            norm = 1 if i == 0 and j == 0 else 2
            r = g = b = 0.0
            for y in range(height):
                for x in range(width):
                    basis = math.cos(math.pi * i * x / width) * math.cos(math.pi * j * y / height)
                    pr, pg, pb = pixels[y][x]
                    r += basis * ref_srgb_to_linear(pr)
                    g += basis * ref_srgb_to_linear(pg)
                    b += basis * ref_srgb_to_linear(pb)
            scale = norm / (width * height)
            factors.append((r * scale, g * scale, b * scale))
    dc, ac = factors[0], factors[1:]
    out = ref_base83((xc - 1) + (yc - 1) * 9, 1)
    if ac:
        actual_max = max(abs(c) for f in ac for c in f)
        quantised = int(max(0, min(82, math.floor(actual_max * 166 - 0.5))))
        maximum = (quantised + 1) / 166
        out += ref_base83(quantised, 1)
    else:
        maximum = 1
        out += ref_base83(0, 1)
    dc_value = (
        (ref_linear_to_srgb(dc[0]) << 16)
        + (ref_linear_to_srgb(dc[1]) << 8)
        + ref_linear_to_srgb(dc[2])
    )
    out += ref_base83(dc_value, 4)
    for f in ac:
        q = [int(max(0, min(18, math.floor(ref_sign_pow(c / maximum, 0.5) * 9 + 9.5)))) for c in f]
        out += ref_base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2)
    return out


def decode_base83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + BASE83.index(char)
    return value


def as_lists(pixels: np.ndarray) -> list[list[tuple[int, int, int]]]:
    return [[(int(p[0]), int(p[1]), int(p[2])) for p in row] for row in pixels]


def gradient(width: int, height: int) -> np.ndarray:
    xs = np.linspace(0, 255, width)[None, :, None]
    ys = np.linspace(255, 0, height)[:, None, None]
    return np.broadcast_to(
        np.concatenate([xs + 0 * ys, ys + 0 * xs, (xs + ys) / 2], axis=2), (height, width, 3)
    ).astype(np.uint8)


RNG = np.random.default_rng(13)
PICTURES = {
    "noise": RNG.integers(0, 256, (15, 20, 3), dtype=np.uint8),
    "gradient": gradient(32, 24),
    "tall": RNG.integers(0, 256, (40, 9, 3), dtype=np.uint8),
    "uniform": np.full((10, 12, 3), (200, 40, 90), dtype=np.uint8),
    "one pixel": np.array([[[0, 128, 255]]], dtype=np.uint8),
}


@pytest.mark.parametrize("name", PICTURES)
@pytest.mark.parametrize(("xc", "yc"), [(4, 3), (1, 1), (9, 9), (3, 5)])
def test_matches_the_reference_loops(name: str, xc: int, yc: int) -> None:
    """Every digit agrees with the straightforward implementation, for any component count."""
    pixels = PICTURES[name]
    expected = ref_encode(as_lists(pixels), xc, yc)
    assert encode(pixels, xc, yc, max_side=None) == expected
    assert len(expected) == 4 + 2 * xc * yc


def test_a_known_hash() -> None:
    """A fixed value, computed once with the reference loops above, guards against both
    changing together."""
    assert ref_encode(as_lists(PICTURES["gradient"]), 4, 3) == "L:HewR2kwzX5qCX3jtf%gyfifQfj"
    assert encode(PICTURES["gradient"]) == "L:HewR2kwzX5qCX3jtf%gyfifQfj"


def test_the_hash_decodes_to_its_size_and_mean_colour() -> None:
    """The first digit gives the component counts (and so the length); digits 2-6 the mean."""
    for xc, yc in [(4, 3), (5, 2), (1, 9)]:
        hash_ = encode(PICTURES["noise"], xc, yc)
        flag = decode_base83(hash_[0])
        assert (flag % 9 + 1, flag // 9 + 1) == (xc, yc)
        assert len(hash_) == 4 + 2 * (flag % 9 + 1) * (flag // 9 + 1)
    hash_ = encode(PICTURES["uniform"])
    dc = decode_base83(hash_[2:6])
    assert (dc >> 16, (dc >> 8) & 255, dc & 255) == (200, 40, 90)
    assert average_color(PICTURES["uniform"]) == "#c8285a"


def test_pil_images_are_shrunk_and_flattened() -> None:
    """A big PIL image is hashed from a 64-pixel copy; transparency blurs towards white."""
    big = Image.fromarray(np.repeat(np.repeat(PICTURES["gradient"], 50, 0), 50, 1))
    small = big.copy()
    small.thumbnail((64, 64), Image.Resampling.BOX)
    assert encode(big) == encode(np.asarray(small), max_side=None)

    clear = Image.new("RGBA", (30, 20), (255, 0, 0, 0))
    assert average_color(clear) == "#ffffff"
    half = Image.new("RGBA", (30, 20), (0, 0, 0, 255))
    half.paste((0, 0, 0, 0), (0, 0, 15, 20))
    flattened = np.zeros((20, 30, 3), dtype=np.uint8)
    flattened[:, :15] = 255
    assert encode(half) == encode(flattened)


def test_bad_input_is_refused() -> None:
    """Component counts are 1 to 9; pixels are H x W x 3 bytes."""
    with pytest.raises(ValueError):
        encode(PICTURES["noise"], 0, 3)
    with pytest.raises(ValueError):
        encode(PICTURES["noise"], 4, 10)
    with pytest.raises(ValueError):
        encode(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError):
        encode(np.zeros((4, 4, 3), dtype=np.float64))  # type: ignore[arg-type]
