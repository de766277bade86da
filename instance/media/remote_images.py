"""Cached remote images re-encoded from their pixels, so no metadata of the original survives.

A peer's file may carry EXIF with GPS, XMP or comments its author never meant to spread,
and bytes crafted for a decoder bug in a reader's browser. Re-encoding through Pillow
means a reader only ever gets a file Gapo wrote: WebP (animated when the original was),
with no `info` copied over. Synchronous and CPU-bound: run it in the image pool.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# Decoders for what peers send; everything else Pillow knows stays unused.
REMOTE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF")
MAX_PIXELS = 40_000_000
# An animation's frames times pixels. Every frame is held decoded (4 bytes a pixel) while
# the WebP is written, so this bounds a pool thread's memory to about 200 MB; it admits a
# 480×270 GIF of 380 frames. Larger animations are refused, not served as they came.
MAX_ANIMATION_PIXELS = 50_000_000
# Pages show attachments at most a column wide; a full-screen view on a large display needs
# about this. A 12 MP photo (4000×3000) took 2.2 s re-encoded whole, 1.1-1.4 s at this
# size, on one thread of the test machine (bench/bench_remote_media.py).
MAX_SIDE = 2048
OUTPUT_EXT = "webp"
OUTPUT_TYPE = "image/webp"


class NotAnImage(Exception):
    """Pillow cannot decode it as one of `REMOTE_FORMATS`, or it is too big to."""


def _open_heif() -> None:
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover - a dependency; HEIC is refused without it
        pass


_open_heif()


def _frame(image: Image.Image) -> Image.Image:
    alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    return image.convert("RGBA" if alpha else "RGB")


def reencode(path: Path) -> bytes:
    """The image at `path` as a WebP without metadata, or `NotAnImage`."""
    try:
        with Image.open(path, formats=REMOTE_FORMATS) as source:
            # The header gives the size before any pixel is decoded: a bomb stops here.
            pixels = source.width * source.height
            if pixels > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            frames = getattr(source, "n_frames", 1)
            out = io.BytesIO()
            if frames > 1:
                if pixels * frames > MAX_ANIMATION_PIXELS:
                    raise NotAnImage("animation too large")
                images = [_frame(f.copy()) for f in ImageSequence.Iterator(source)]
                durations = [
                    int(f.info.get("duration", 100)) for f in ImageSequence.Iterator(source)
                ]
                images[0].save(
                    out,
                    "WEBP",
                    save_all=True,
                    append_images=images[1:],
                    duration=durations,
                    loop=0,
                    quality=80,
                    method=3,
                )
            else:
                # JPEG can decode at 1/2, 1/4, 1/8 scale: less memory and time for a big photo.
                source.draft("RGB", (MAX_SIDE, MAX_SIDE))
                # The orientation tag is applied to the pixels before it is thrown away.
                image = _frame(ImageOps.exif_transpose(source))
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                image.info.clear()
                image.save(out, "WEBP", quality=85, method=4, exif=b"")
            return out.getvalue()
    except NotAnImage:
        raise
    except Image.DecompressionBombError as exc:
        raise NotAnImage("decompression bomb") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise NotAnImage(str(exc)) from exc
    except Warning as exc:  # DecompressionBombWarning when warnings are errors
        raise NotAnImage(str(exc)) from exc
