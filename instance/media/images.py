"""Profile images: validate an upload, crop and resize it, re-encode it without metadata.

Everything here is synchronous and CPU-bound; callers run it in a thread pool. Re-encoding
from decoded pixels (and dropping `info`) is what strips EXIF, GPS, XMP and comments: nothing
of the original file but its pixels reaches the output.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from instance.errors import N_, PayloadTooLarge, ValidationFailed

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Only the common web formats: every other decoder Pillow has is attack surface we do not need.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
OUTPUT_EXT = "webp"

ImageKind = Literal["avatar", "header"]


@dataclass(frozen=True)
class Shape:
    width: int
    height: int


SHAPES: dict[str, Shape] = {
    "avatar": Shape(400, 400),
    "header": Shape(1500, 500),
}


class ImageRejected(ValidationFailed):
    message = N_("That file is not an image Gapo can use. Upload a JPEG, PNG, GIF or WebP image.")


class ImageTooLarge(PayloadTooLarge):
    message = N_("That image is too large. Upload one under 8 MB and 40 megapixels.")


def _cover(image: Image.Image, shape: Shape) -> Image.Image:
    """Centre-crop to the shape's aspect ratio, then shrink to it (never enlarge)."""
    target_ratio = shape.width / shape.height
    width, height = image.size
    if width / height > target_ratio:
        new_width = max(1, round(height * target_ratio))
        left = (width - new_width) // 2
        image = image.crop((left, 0, left + new_width, height))
    elif width / height < target_ratio:
        new_height = max(1, round(width / target_ratio))
        top = (height - new_height) // 2
        image = image.crop((0, top, width, top + new_height))
    if image.width > shape.width:
        image = image.resize((shape.width, shape.height), Image.Resampling.LANCZOS)
    return image


def has_alpha(image: Image.Image) -> bool:
    """Whether the mode can carry transparency (an alpha band or a transparent palette entry)."""
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def process_image(data: bytes, kind: ImageKind) -> bytes:
    """The upload as a WebP of the kind's shape, or ImageRejected / ImageTooLarge."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(field=kind)
    if not data:
        raise ImageRejected(field=kind)
    shape = SHAPES[kind]
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            # The header is read without decoding pixels: a bomb is refused before it expands.
            if source.width * source.height > MAX_PIXELS:
                raise ImageTooLarge(field=kind)
            # JPEG can decode at 1/2, 1/4, 1/8 scale: far less memory for a big photo.
            source.draft("RGB", (shape.width * 2, shape.height * 2))
            # The orientation tag is applied to the pixels before it is thrown away.
            image = ImageOps.exif_transpose(source)
            image = image.convert("RGBA" if has_alpha(image) else "RGB")
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(field=kind) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected(field=kind) from exc
    except Warning as exc:
        # Pillow's DecompressionBombWarning, when warnings are turned into errors.
        raise ImageTooLarge(field=kind) from exc
    image = _cover(image, shape)
    image.info.clear()
    out = io.BytesIO()
    image.save(out, "WEBP", quality=85, method=4, exif=b"")
    return out.getvalue()
