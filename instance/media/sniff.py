"""What an upload is, from its first bytes alone: the formats Gapo takes for attachments.

The client's file name and Content-Type are never trusted; the magic bytes decide which
pipeline (photo or video) gets the file, and anything not listed here is refused before a
decoder sees it. 64 bytes are enough for every signature below: the ISO-BMFF `ftyp` box and
the EBML header of WebM both sit at the very start of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

HEAD_BYTES = 64

MediaKind = Literal["image", "video"]


@dataclass(frozen=True)
class Sniffed:
    kind: MediaKind
    format: str
    media_type: str
    ext: str


JPEG = Sniffed("image", "JPEG", "image/jpeg", "jpg")
PNG = Sniffed("image", "PNG", "image/png", "png")
# GIF is an image format, but an animated one goes on to the video transcoder: whether it is
# animated is known only after the photo pipeline has opened it.
GIF = Sniffed("image", "GIF", "image/gif", "gif")
WEBP = Sniffed("image", "WEBP", "image/webp", "webp")
HEIC = Sniffed("image", "HEIC", "image/heic", "heic")
HEIF = Sniffed("image", "HEIF", "image/heif", "heif")
AVIF = Sniffed("image", "AVIF", "image/avif", "avif")
MP4 = Sniffed("video", "MP4", "video/mp4", "mp4")
MOV = Sniffed("video", "MOV", "video/quicktime", "mov")
WEBM = Sniffed("video", "WEBM", "video/webm", "webm")
MKV = Sniffed("video", "MKV", "video/x-matroska", "mkv")

# ISO base media file format brands (the `ftyp` box), by what they announce.
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
# Structural brands that say "HEIF container" without naming the codec.
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"iso7",
    b"iso8",
    b"iso9",
    b"mp41",
    b"mp42",
    b"mp71",
    b"avc1",
    b"M4V ",
    b"M4VH",
    b"M4VP",
    b"dash",
    b"mmp4",
    b"MSNV",
    b"NDAS",
    b"XAVC",
}
_MOV_BRANDS = {b"qt  "}

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = b"\x42\x82"


def _iso_bmff(head: bytes) -> Sniffed | None:
    """An ISO-BMFF file (HEIF, AVIF, MP4, MOV) by its major brand, then its compatible ones."""
    if len(head) < 12:
        return None
    (box_size,) = struct.unpack(">I", head[:4])
    major = head[8:12]
    # Compatible brands follow the minor version, up to the end of the box (or of what we read).
    end = min(box_size, len(head)) if box_size >= 16 else 16
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _HEIC_BRANDS:
        return HEIC
    if major in _HEIF_BRANDS:
        # Many encoders put the generic brand first and the codec among the compatible ones.
        if compatible & _AVIF_BRANDS:
            return AVIF
        if compatible & _HEIC_BRANDS:
            return HEIC
        return HEIF
    if major in _MOV_BRANDS:
        return MOV
    if major in _MP4_BRANDS:
        return MP4
    return None


def _matroska(head: bytes) -> Sniffed | None:
    """WebM or Matroska, by the DocType element of the EBML header."""
    at = head.find(_EBML_DOCTYPE_ID)
    if at < 0 or at + 3 > len(head):
        # The header is cut short of its DocType: a Matroska file all the same.
        return MKV
    size_byte = head[at + 2]
    # A one-byte EBML size has its top bit set; DocType strings are a few bytes long.
    if not size_byte & 0x80:
        return None
    doctype = head[at + 3 : at + 3 + (size_byte & 0x7F)]
    if doctype == b"webm":
        return WEBM
    if doctype == b"matroska":
        return MKV
    return None


def sniff(head: bytes) -> Sniffed | None:
    """The media the first bytes of a file announce, or None when Gapo does not take it."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _iso_bmff(head[:HEAD_BYTES])
    if head.startswith(_EBML_MAGIC):
        return _matroska(head[:HEAD_BYTES])
    return None
