"""What a file really is, from its first bytes: never from its name or a peer's word.

A stub with the interface of the sniffer being written on another branch (the lead
replaces this file at merge): `sniff(head) -> Sniffed | None`, where `head` is the first
bytes of the file (`media/remote.py` passes 4 kB). It knows the formats Gapo stores;
anything else (HTML, SVG, JSON, scripts) is None.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image | video
    media_type: str
    ext: str


_MAGIC: tuple[tuple[bytes, Sniffed], ...] = (
    (b"\xff\xd8\xff", Sniffed("image", "image/jpeg", "jpg")),
    (b"\x89PNG\r\n\x1a\n", Sniffed("image", "image/png", "png")),
    (b"GIF87a", Sniffed("image", "image/gif", "gif")),
    (b"GIF89a", Sniffed("image", "image/gif", "gif")),
    (b"\x1a\x45\xdf\xa3", Sniffed("video", "video/webm", "webm")),
)
# ISO base media files (`ftyp` box at offset 4) by major brand.
_IMAGE_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic"}
_HEIC_BRANDS = {b"heix", b"mif1", b"msf1", b"hevc"}


def sniff(head: bytes) -> Sniffed | None:
    """The kind, media type and extension `head` starts like, or None."""
    for magic, found in _MAGIC:
        if head.startswith(magic):
            return found
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", "webp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return Sniffed("image", _IMAGE_BRANDS[brand], brand.decode())
        if brand in _HEIC_BRANDS:
            return Sniffed("image", "image/heic", "heic")
        # mp4 (isom, mp41, mp42, avc1, dash…) and QuickTime (qt): browsers play both as mp4.
        return Sniffed("video", "video/mp4", "mp4")
    return None
