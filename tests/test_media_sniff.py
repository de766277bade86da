"""Uploads are recognised by their first bytes; anything but the accepted media is None."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from instance.media import photos  # noqa: F401  (registers the HEIF encoder the fixtures use)
from instance.media.sniff import HEAD_BYTES, Sniffed, sniff


def encoded(pil_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, pil_format, **options)
    return out.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ebml(doctype: bytes) -> bytes:
    # EBMLVersion 1, EBMLReadVersion 1, EBMLMaxIDLength 4, EBMLMaxSizeLength 8, DocType.
    children = (
        b"\x42\x86\x81\x01"
        + b"\x42\xf7\x81\x01"
        + b"\x42\xf2\x81\x04"
        + b"\x42\xf3\x81\x08"
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(children)]) + children + b"\x18\x53\x80\x67"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (encoded("JPEG"), ("image", "JPEG", "image/jpeg", "jpg")),
        (encoded("PNG"), ("image", "PNG", "image/png", "png")),
        (encoded("GIF"), ("image", "GIF", "image/gif", "gif")),
        (encoded("WEBP"), ("image", "WEBP", "image/webp", "webp")),
        (encoded("HEIF"), ("image", "HEIC", "image/heic", "heic")),
        (encoded("AVIF"), ("image", "AVIF", "image/avif", "avif")),
        (ftyp(b"mif1", b"mif1", b"heic"), ("image", "HEIC", "image/heic", "heic")),
        (ftyp(b"mif1", b"mif1", b"avif"), ("image", "AVIF", "image/avif", "avif")),
        (ftyp(b"avis", b"avis", b"msf1"), ("image", "AVIF", "image/avif", "avif")),
        (ftyp(b"msf1", b"msf1"), ("image", "HEIF", "image/heif", "heif")),
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), ("video", "MP4", "video/mp4", "mp4")),
        (ftyp(b"mp42", b"mp42", b"isom"), ("video", "MP4", "video/mp4", "mp4")),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), ("video", "MP4", "video/mp4", "mp4")),
        (ftyp(b"dash", b"iso6"), ("video", "MP4", "video/mp4", "mp4")),
        (ftyp(b"qt  ", b"qt  "), ("video", "MOV", "video/quicktime", "mov")),
        (ebml(b"webm"), ("video", "WEBM", "video/webm", "webm")),
        (ebml(b"matroska"), ("video", "MKV", "video/x-matroska", "mkv")),
    ],
)
def test_accepted_media_are_recognised(data: bytes, expected: tuple[str, ...]) -> None:
    """Real encoder output (images) and real container headers (video) name their format."""
    found = sniff(data[:HEAD_BYTES])
    assert isinstance(found, Sniffed)
    assert (found.kind, found.format, found.media_type, found.ext) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",  # too short to be sure
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b'{"type": "Note", "content": "hi"}',
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40,  # zip (docx, apk...)
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"BM" + b"\x00" * 60,  # BMP: Pillow reads it, Gapo does not take it
        b"II*\x00" + b"\x00" * 60,  # TIFF
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"RIFF\x24\x00\x00\x00AVI LIST",
        b"OggS\x00\x02" + b"\x00" * 40,
        b"ID3\x04\x00\x00" + b"\x00" * 40,  # MP3
        ftyp(b"M4A ", b"M4A ", b"mp42"),  # audio only
        ftyp(b"jp2 ", b"jp2 "),
        ftyp(b"crx ", b"crx "),  # Canon raw
        ebml(b"mkaudio"),
        b"\x1a\x45\xdf\xa3\x9f\x42\x82\x04webm",  # DocType size without its marker bit
        b"GIF88a" + b"\x00" * 20,
    ],
)
def test_everything_else_is_none(data: bytes) -> None:
    """Markup, documents, archives, audio and other image formats are not media to Gapo."""
    assert sniff(data) is None


def test_only_the_head_is_needed() -> None:
    """The first 64 bytes decide; what follows does not change the answer."""
    data = encoded("HEIF")
    assert sniff(data[:HEAD_BYTES]) == sniff(data + b"<html>" * 100)
