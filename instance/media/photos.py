"""Photos attached to posts: decode safely, orient, convert to sRGB, shrink, re-encode bare.

Everything here is synchronous and CPU-bound; callers run it in a thread pool. The steps:

1. open with an allow-list of decoders and refuse a decompression bomb from the header
   alone, before any pixel is decoded; decode fully (`load()`) inside the same guard, so
   a truncated or corrupt file is a 422, never a 500;
2. shrink to at most 3840x2160 pixels' worth (keeping the aspect), apply the EXIF
   orientation to the pixels, convert from the embedded ICC profile to sRGB;
3. encode a new file from the pixels alone: JPEG when opaque, WebP when it uses
   transparency. No EXIF, GPS, XMP, IPTC, ICC, comment or PNG text chunk survives,
   because nothing of the source but its pixels reaches the encoder.

The output names are fixed ("original.<ext>", "thumbnail.<ext>") inside a work directory
the caller chose; no user-supplied name reaches a decoder or the disk.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps

from instance.errors import N_, GapoError
from instance.media import blurhash
from instance.media.images import ImageRejected, ImageTooLarge, has_alpha

# Every decoder Pillow has beyond these is attack surface nobody needs for a photo. AVIF
# comes before HEIF: both read ISO-BMFF files and Pillow tries the formats in this order.
ACCEPTED_PHOTO_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF")
# 50 MP admits the 48 MP "HEIF Max" of recent iPhones (8064x6048) and the full-resolution
# mode of 50 MP phone sensors (8160x6120 = 49.9 MP). Decoded, such a photo is 150 MB of
# RGB; a JPEG is decoded at 1/2 scale (see `draft`), so only HEIF, PNG and WebP pay that.
MAX_PHOTO_PIXELS = 50_000_000
# 4K UHD: what Mastodon keeps of a photo, and more than any screen shows a post image at.
MAX_ORIGINAL_PIXELS = 3840 * 2160
THUMBNAIL_SIDE = 640
# Formats whose animation the video transcoder can turn into a looping MP4. HEIF and AVIF
# "sequences" are bursts and live photos more often than animations: their first image only.
ANIMATED_FORMATS = ("GIF", "WEBP", "PNG")

# The opener registers "HEIF" with Pillow once, for every thread. Its thumbnails, depth maps
# and auxiliary images are never used, so they are not even listed.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


class PhotoRejected(ImageRejected):
    message = N_(
        "That file is not an image Gapo can use. Upload a JPEG, PNG, GIF, WebP, HEIC or AVIF image."
    )


class PhotoTooLarge(ImageTooLarge):
    message = N_("That image is too large. Upload one under 50 megapixels.")


@dataclass(frozen=True)
class ProcessedImage:
    original: Path
    original_ext: str
    original_media_type: str
    thumbnail: Path
    thumbnail_ext: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    blurhash: str
    animated: bool


@dataclass(frozen=True)
class _Encoding:
    pil_format: str
    ext: str
    media_type: str
    options: dict[str, Any]


# No metadata argument is left to a default: nothing but pixels is written.
_BARE: dict[str, Any] = {"exif": b"", "icc_profile": None, "xmp": b""}
# Opaque pictures: JPEG is what every client and every other server's thumbnailer reads.
# Progressive costs 0.2 s more for 8 MP but shows a blurry whole photo early on slow links.
_JPEG = _Encoding(
    "JPEG",
    "jpg",
    "image/jpeg",
    {"quality": 85, "optimize": True, "progressive": True, **_BARE},
)
# Transparent pictures: lossy WebP with lossless alpha, a tenth of the size of a PNG of the
# same photo (2.7 MB against 22 MB for 8 MP, measured) and shown by every current browser.
# Method 2, not Pillow's default 4: 0.29 s against 0.59 s for a 3 MP sticker, and the files
# differed by under 5% across methods 0-4 (only 6 was smaller, at 4.9 s).
_WEBP = _Encoding("WEBP", "webp", "image/webp", {"quality": 85, "method": 2, **_BARE})


def _check_decoder_settings() -> None:
    # With this flag set, Pillow pads a truncated file with grey instead of failing.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")


def _fit_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size of the same aspect within max_pixels; never larger than size."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = (max_pixels / (width * height)) ** 0.5
    width, height = max(1, int(width * scale)), max(1, int(height * scale))
    while width * height > max_pixels:  # float rounding, at most a pixel
        if width >= height:
            width -= 1
        else:
            height -= 1
    return width, height


def _fit_side(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size scaled so its long side is at most `side`; never larger than size."""
    width, height = size
    scale = side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    # reducing_gap: a box reduction first when shrinking 3x or more, then Lanczos: the same
    # look, and a 4000x3000 to 640x480 thumbnail in 0.08 s instead of 0.19 s.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _working_mode(image: Image.Image) -> Image.Image:
    """The decoded picture as RGB, RGBA, L or CMYK: modes that resize and colour-convert."""
    if image.mode in ("RGB", "RGBA", "L", "CMYK"):
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale (PNG): Pillow's convert() clips it to white, so scale it down.
        grey = np.asarray(image).astype(np.uint32) >> 8
        converted = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")
        converted.info = dict(image.info)  # the orientation is still to be read
        return converted
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if has_alpha(image) else "RGB")


def _decode(source: Path) -> tuple[Image.Image, bool, bytes | None]:
    """The first frame, decoded and shrunk; whether it is animated; its ICC profile."""
    _check_decoder_settings()
    try:
        with Image.open(source, formats=ACCEPTED_PHOTO_FORMATS) as opened:
            # Only the header is read so far: a bomb is refused before it expands.
            if opened.width * opened.height > MAX_PHOTO_PIXELS:
                raise PhotoTooLarge()
            # is_animated stops at the second frame; n_frames would walk a whole GIF.
            animated = opened.format in ANIMATED_FORMATS and bool(
                getattr(opened, "is_animated", False)
            )
            if opened.format == "JPEG":
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below the target size:
                # a 48 MP JPEG costs 36 MB of pixels instead of 144 MB.
                opened.draft(None, _fit_pixels(opened.size, MAX_ORIGINAL_PIXELS))
            opened.load()
            icc = opened.info.get("icc_profile") or None
            image = _working_mode(opened)
    except GapoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooLarge() from exc
    except (MemoryError, FileNotFoundError):
        raise  # the server's trouble, not the file's
    except Exception as exc:
        # Decoders fed hostile bytes raise more than OSError: fuzzing the six formats here
        # gave OSError, ValueError (HEIF), SyntaxError and RuntimeError (AVIF). Only library
        # code runs in this block, so every failure is the file's.
        raise PhotoRejected() from exc
    return image, animated, icc


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    # Camera JPEGs mostly say "sRGB IEC61966-2.1": converting sRGB to sRGB would cost 0.2 s
    # for 8 MP and change nothing.
    return "srgb" in (profile.profile.profile_description or "").lower()


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or RGBA pixels in sRGB; the embedded profile is applied, then forgotten."""
    if icc:
        # A broken or unusable profile loses the colour correction, not the photo.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = profile.profile.xcolor_space.strip()
            fits = {"RGB": ("RGB", "RGBA"), "GRAY": ("L",), "CMYK": ("CMYK",)}.get(space, ())
            if image.mode in fits and not _is_srgb(profile):
                converted = ImageCms.profileToProfile(
                    image,
                    profile,
                    ImageCms.createProfile("sRGB"),
                    outputMode="RGBA" if image.mode == "RGBA" else "RGB",
                )
                if converted is not None:
                    image = converted
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        # An alpha band that is opaque everywhere (many PNG screenshots) is dropped: JPEG.
        image = image.convert("RGB")
    return image


def _orient(image: Image.Image) -> None:
    """Turn the pixels as the EXIF (or XMP) orientation says; in place."""
    # A corrupt EXIF block costs the photo its orientation, not its upload; parsing it can
    # raise almost anything (struct.error, KeyError, UnicodeDecodeError...).
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)


def _write(image: Image.Image, workdir: Path, stem: str) -> tuple[Path, _Encoding]:
    encoding = _WEBP if image.mode == "RGBA" else _JPEG
    path = workdir / f"{stem}.{encoding.ext}"
    # The JPEG encoder still reads a comment from `info`: the pixels go alone.
    image.info = {}
    image.save(path, encoding.pil_format, **encoding.options)
    return path, encoding


def process_photo(source: Path, workdir: Path) -> ProcessedImage:
    """A post photo as a bare sRGB original (<= 3840x2160 worth) and a 640 px thumbnail.

    Raises PhotoRejected (422) for anything but a whole JPEG, PNG, GIF, WebP, HEIF or AVIF
    image, PhotoTooLarge (413) past MAX_PHOTO_PIXELS. An animated GIF, WebP or PNG gives
    its first frame here and `animated=True`: the caller sends it to the video transcoder.
    """
    image, animated, icc = _decode(source)
    image = _shrink(image, _fit_pixels(image.size, MAX_ORIGINAL_PIXELS))
    # After the shrink: turning 8 MP costs less than turning 12 MP. `info` (and so the
    # orientation) survives convert() and resize().
    _orient(image)
    image = _to_srgb(image, icc)
    thumbnail = _shrink(image, _fit_side(image.size, THUMBNAIL_SIDE))
    hash_ = blurhash.encode(thumbnail)
    original_path, original_encoding = _write(image, workdir, "original")
    thumbnail_path, thumbnail_encoding = _write(thumbnail, workdir, "thumbnail")
    return ProcessedImage(
        original=original_path,
        original_ext=original_encoding.ext,
        original_media_type=original_encoding.media_type,
        thumbnail=thumbnail_path,
        thumbnail_ext=thumbnail_encoding.ext,
        width=image.width,
        height=image.height,
        thumb_width=thumbnail.width,
        thumb_height=thumbnail.height,
        blurhash=hash_,
        animated=animated,
    )


def image_dimensions(path: Path) -> tuple[int, int]:
    """Width and height of an image file from its header alone (no pixels are decoded).

    Meant for files Gapo wrote (which carry no orientation tag); anything that is not an
    accepted image raises PhotoRejected.
    """
    try:
        with Image.open(path, formats=ACCEPTED_PHOTO_FORMATS) as opened:
            return opened.size
    except Exception as exc:
        raise PhotoRejected() from exc


def animation_frames(source: Path, max_frames: int = 1000) -> Iterator[tuple[Image.Image, int]]:
    """The frames of an animated GIF, WebP or PNG as (RGBA image, duration in ms), in order.

    For the video transcoder: PyAV's FFmpeg (8.1) decodes animated GIF and APNG itself but
    refuses animated WebP ("Invalid data found when processing input"), so a transcoder can
    take the frames from here instead. The same header checks as process_photo apply, and
    more than max_frames frames is PhotoTooLarge.
    """
    _check_decoder_settings()
    try:
        with Image.open(source, formats=ANIMATED_FORMATS) as opened:
            if opened.width * opened.height > MAX_PHOTO_PIXELS:
                raise PhotoTooLarge()
            if getattr(opened, "n_frames", 1) > max_frames:
                raise PhotoTooLarge()
            for index in range(getattr(opened, "n_frames", 1)):
                opened.seek(index)
                opened.load()
                duration = int(opened.info.get("duration") or 0)
                # Browsers play a GIF delay of 0 or 10 ms at 100 ms; so does Gapo.
                yield opened.convert("RGBA"), duration if duration > 10 else 100
    except GapoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooLarge() from exc
    except (MemoryError, FileNotFoundError):
        raise
    except Exception as exc:
        raise PhotoRejected() from exc
