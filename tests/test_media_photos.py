"""Post photos: every accepted format comes out oriented, in sRGB, shrunk and bare of metadata;
everything else (and every broken or oversized file) is refused with a reason."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from instance.media.photos import (
    MAX_ORIGINAL_PIXELS,
    PhotoRejected,
    PhotoTooLarge,
    ProcessedImage,
    animation_frames,
    image_dimensions,
    process_photo,
)
from tests.test_profile_images import png_header_only

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="21,42.0N" exif:GPSLongitude="105,51.25E"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
SECRETS = (b"TestCam", b"SecretModel", b"GPSLatitude", b"Exif\x00", b"xmpmeta", b"Holiday")


def camera_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "SecretModel"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (21.0, 42.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (105.0, 51.0, 15.0),
    }
    return exif


def photo(size: tuple[int, int] = (300, 200), mode: str = "RGB") -> Image.Image:
    """A picture with texture (so encoders do real work) and a red left, blue right half."""
    width, height = size
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 40, (height, width, 3)).astype(np.uint8)
    pixels[:, : width // 2, 0] += 200
    pixels[:, width // 2 :, 2] += 200
    image = Image.fromarray(pixels, "RGB")
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(size))
    return image


def write(tmp_path: Path, data: bytes, name: str = "upload") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def encoded(image: Image.Image, pil_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, pil_format, **options)
    return out.getvalue()


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def swapped_primaries_icc() -> bytes:
    """An RGB matrix profile whose red and blue primaries are sRGB's blue and red: a stored
    (255, 0, 0) *means* blue. Written out by hand: no ICC file ships with the test tools."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + s15(x) + s15(y) + s15(z)

    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, int(2.2 * 256)) + b"\x00\x00"
    text = b"Swapped primaries\x00"
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 79
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.1431, 0.0606, 0.7141)),  # sRGB's blue
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00none\x00\x00\x00\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\x00" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"\x00\x00\x00\x00"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\x00" * 12
        + b"acsp"
        + b"\x00" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\x00" * 48
    )
    assert len(header) == 128
    profile = header + struct.pack(">I", len(tags)) + table + data
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # lcms takes it, or the test proves nothing
    return profile


def assert_bare(path: Path) -> Image.Image:
    """Reopen what was written: no EXIF, GPS, XMP, ICC, comment or text of the source."""
    data = path.read_bytes()
    image = Image.open(io.BytesIO(data))
    image.load()
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment"):
        assert key not in image.info, key
    assert not getattr(image, "text", {})
    for secret in SECRETS:
        assert secret not in data, secret
    return image


def reopen(path: Path) -> Image.Image:
    return Image.open(io.BytesIO(path.read_bytes()))


def process(tmp_path: Path, data: bytes) -> ProcessedImage:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return process_photo(write(tmp_path, data), out)


def red_top_blue_bottom(image: Image.Image) -> bool:
    rgb = image.convert("RGB")
    top = rgb.getpixel((rgb.width // 2, rgb.height // 8))
    bottom = rgb.getpixel((rgb.width // 2, rgb.height * 7 // 8))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    return top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_jpeg_loses_gps_and_camera_exif(tmp_path: Path) -> None:
    """A camera JPEG with GPS, XMP and a comment becomes a bare progressive JPEG."""
    source = encoded(photo(), "JPEG", exif=camera_exif(), xmp=XMP, comment=b"Holiday")
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    result = process(tmp_path, source)
    assert (result.original_ext, result.original_media_type) == ("jpg", "image/jpeg")
    assert result.thumbnail_ext == "jpg"
    assert (result.width, result.height) == (300, 200)
    assert (result.thumb_width, result.thumb_height) == (300, 200)  # never enlarged
    original = assert_bare(result.original)
    assert original.format == "JPEG" and original.size == (300, 200)
    assert original.info.get("progressive")
    assert assert_bare(result.thumbnail).size == (300, 200)
    assert len(result.blurhash) == 4 + 2 * 4 * 3
    assert not result.animated
    assert {p.name for p in result.original.parent.iterdir()} == {"original.jpg", "thumbnail.jpg"}


def test_png_loses_exif_text_time_and_xmp(tmp_path: Path) -> None:
    """eXIf, tEXt, zTXt, iTXt (XMP) and tIME chunks are all gone from the output."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Holiday at home")
    info.add_text("Software", "TestCam editor", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2026, 12, 3, 7, 30, 0))
    source = encoded(photo(), "PNG", pnginfo=info, exif=camera_exif())
    opened = Image.open(io.BytesIO(source))
    opened.load()
    assert opened.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "XML:com.adobe.xmp" in opened.info
    result = process(tmp_path, source)
    assert result.original_ext == "jpg"  # opaque: JPEG
    assert_bare(result.original)
    assert_bare(result.thumbnail)


def test_transparent_png_becomes_webp_and_keeps_its_alpha(tmp_path: Path) -> None:
    """A PNG that uses transparency comes out as WebP (original and thumbnail), alpha kept."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Holiday")
    source = encoded(photo((900, 600), "RGBA"), "PNG", pnginfo=info, exif=camera_exif())
    result = process(tmp_path, source)
    assert (result.original_ext, result.original_media_type) == ("webp", "image/webp")
    assert result.thumbnail_ext == "webp"
    original = assert_bare(result.original)
    assert original.format == "WEBP" and original.mode == "RGBA"
    low, high = original.getchannel("A").getextrema()
    assert isinstance(low, int) and isinstance(high, int)
    assert low < 10 and high > 245
    thumbnail = assert_bare(result.thumbnail)
    assert thumbnail.size == (640, 427) == (result.thumb_width, result.thumb_height)


def test_opaque_rgba_png_becomes_jpeg(tmp_path: Path) -> None:
    """An alpha band that is opaque everywhere (a typical screenshot) is dropped."""
    result = process(tmp_path, encoded(photo().convert("RGBA"), "PNG"))
    assert result.original_ext == "jpg" and result.thumbnail_ext == "jpg"


@pytest.mark.parametrize("pil_format", ["WEBP", "HEIF", "AVIF"])
def test_webp_heic_and_avif_are_decoded_and_stripped(tmp_path: Path, pil_format: str) -> None:
    """The newer formats (phones write HEIC and AVIF) give the same bare JPEG."""
    source = encoded(photo(), pil_format, exif=camera_exif(), xmp=XMP, quality=90)
    reopened = Image.open(io.BytesIO(source))
    assert reopened.getexif().get(ExifTags.Base.Make) == "TestCam"
    result = process(tmp_path, source)
    original = assert_bare(result.original)
    assert original.format == "JPEG" and original.size == (300, 200)
    assert red_top_blue_bottom(original.rotate(-90, expand=True))  # the colours are right
    assert_bare(result.thumbnail)


@pytest.mark.parametrize("pil_format", ["JPEG", "WEBP", "PNG"])
def test_exif_orientation_is_applied_to_the_pixels(tmp_path: Path, pil_format: str) -> None:
    """Orientation 6 (phone held upright): the output is turned, its sides swapped."""
    stored = photo((400, 300))  # red left, blue right, as the sensor saw it
    source = encoded(stored, pil_format, exif=camera_exif(orientation=6))
    result = process(tmp_path, source)
    assert (result.width, result.height) == (300, 400)
    assert (result.thumb_width, result.thumb_height) == (300, 400)
    original = assert_bare(result.original)
    assert original.size == (300, 400)
    assert red_top_blue_bottom(original)  # turned a quarter clockwise: left went to the top
    assert red_top_blue_bottom(reopen(result.thumbnail))


def test_animated_gif_is_flagged_and_gives_its_first_frame(tmp_path: Path) -> None:
    """An animated GIF says animated=True (it goes on to the video transcoder) and still
    yields a still of frame one; a single-frame GIF is a plain photo."""
    frames = [Image.new("RGB", (120, 80), colour) for colour in ("red", "lime", "blue")]
    source = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = process(tmp_path, source)
    assert result.animated
    still = assert_bare(result.original)
    assert still.format == "JPEG" and still.size == (120, 80)
    r, g, b = still.convert("RGB").getpixel((60, 40))  # type: ignore[misc]
    assert r > 200 and g < 60 and b < 60

    assert not process(tmp_path, encoded(frames[1], "GIF")).animated


def test_animated_webp_is_flagged(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "blue")]
    source = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    assert process(tmp_path, source).animated


@pytest.mark.parametrize("pil_format", ["WEBP", "GIF", "PNG"])
def test_animation_frames_for_the_transcoder(tmp_path: Path, pil_format: str) -> None:
    """Every frame, in order, with its duration (FFmpeg cannot read animated WebP)."""
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "blue", "lime")]
    source = encoded(
        frames[0], pil_format, save_all=True, append_images=frames[1:], duration=[50, 0, 200]
    )
    got = list(animation_frames(write(tmp_path, source)))
    assert [image.size for image, _ in got] == [(64, 48)] * 3
    colours = [image.getpixel((5, 5))[:3] for image, _ in got]  # type: ignore[index]
    assert [max(range(3), key=lambda c: colour[c]) for colour in colours] == [0, 2, 1]
    assert [duration for _, duration in got] == [50, 100, 200]
    with pytest.raises(PhotoTooLarge):
        list(animation_frames(write(tmp_path, source), max_frames=2))
    with pytest.raises(PhotoRejected):
        list(animation_frames(write(tmp_path, encoded(frames[0], "JPEG"))))


def test_transparent_gif_becomes_webp(tmp_path: Path) -> None:
    image = Image.new("P", (50, 50), 0)
    image.putpalette([255, 255, 255, 200, 0, 0])
    image.paste(1, (10, 10, 40, 40))
    result = process(tmp_path, encoded(image, "GIF", transparency=0))
    assert result.original_ext == "webp"
    assert reopen(result.original).getpixel((2, 2))[3] == 0  # type: ignore[index]


def test_non_srgb_profile_is_converted_then_dropped(tmp_path: Path) -> None:
    """Pixels tagged with a profile are converted to sRGB: with red and blue primaries
    swapped in the profile, stored red comes out blue. The output carries no profile."""
    stored = Image.new("RGB", (64, 48), (255, 0, 0))
    result = process(tmp_path, encoded(stored, "JPEG", icc_profile=swapped_primaries_icc()))
    out = assert_bare(result.original).convert("RGB").getpixel((32, 24))
    assert isinstance(out, tuple)
    assert out[2] > 200 and out[0] < 60, out

    # The same pixels tagged sRGB (or untagged) are left as they are.
    for options in ({"icc_profile": srgb_icc()}, {}):
        result = process(tmp_path, encoded(stored, "JPEG", **options))
        out = assert_bare(result.original).convert("RGB").getpixel((32, 24))
        assert isinstance(out, tuple)
        assert out[0] > 240 and out[2] < 20, out


def test_broken_icc_profile_does_not_lose_the_photo(tmp_path: Path) -> None:
    result = process(tmp_path, encoded(photo(), "JPEG", icc_profile=b"\x00" * 200))
    assert_bare(result.original)


def test_cmyk_and_16_bit_grey_come_out_as_rgb(tmp_path: Path) -> None:
    """Print-shop CMYK JPEGs and 16-bit greyscale PNGs turn into ordinary sRGB JPEGs."""
    cmyk = process(tmp_path, encoded(photo().convert("CMYK"), "JPEG"))
    assert reopen(cmyk.original).mode == "RGB"
    assert red_top_blue_bottom(reopen(cmyk.original).rotate(-90, expand=True))

    grey = Image.fromarray(np.full((40, 60), 32768, dtype=np.uint16))
    assert grey.mode == "I;16"
    out = reopen(process(tmp_path, encoded(grey, "PNG")).original)
    value = out.convert("L").getpixel((30, 20))
    assert isinstance(value, int) and 120 < value < 136  # half grey, not clipped to white


@pytest.mark.parametrize(("pil_format", "size"), [("JPEG", (4800, 3600)), ("PNG", (5000, 2000))])
def test_big_photo_is_shrunk_to_4k_worth_of_pixels(
    tmp_path: Path, pil_format: str, size: tuple[int, int]
) -> None:
    """17 MP and 10 MP become at most 3840x2160 = 8,294,400 pixels, aspect kept."""
    big = Image.new("RGB", size, (220, 20, 20))
    big.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))  # flat: quick to encode
    result = process(tmp_path, encoded(big, pil_format))
    assert result.width * result.height <= MAX_ORIGINAL_PIXELS
    assert result.width * result.height > MAX_ORIGINAL_PIXELS * 0.99
    assert abs(result.width / result.height - size[0] / size[1]) < 0.01
    assert reopen(result.original).size == (result.width, result.height)
    assert max(result.thumb_width, result.thumb_height) == 640
    assert abs(result.thumb_width / result.thumb_height - size[0] / size[1]) < 0.01


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    """56 MP (past the 50 MP limit) and 10 gigapixels are both 413, before any decoding."""
    for width, height in ((8000, 7000), (100_000, 100_000)):
        with pytest.raises(PhotoTooLarge) as caught:
            process(tmp_path, png_header_only(width, height))
        assert caught.value.status == 413
        assert "too large" in caught.value.message


@pytest.mark.parametrize("pil_format", ["JPEG", "PNG", "GIF", "WEBP", "HEIF", "AVIF"])
def test_truncated_file_is_refused(tmp_path: Path, pil_format: str) -> None:
    """A file cut short is a 422, not a grey-padded photo and not a 500."""
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = encoded(photo((320, 240)), pil_format)
    with pytest.raises(PhotoRejected) as caught:
        process(tmp_path, data[: len(data) * 2 // 3])
    assert caught.value.status == 422


def test_truncated_images_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If anything in the process turns on LOAD_TRUNCATED_IMAGES, photos stop, loudly."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        process(tmp_path, encoded(photo(), "JPEG"))


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script/></svg>',
        b"",
        b"\xff\xd8\xff\xe0" + b"\x00" * 100,  # a JPEG signature and nothing else
        encoded(photo(), "BMP"),  # Pillow reads these, Gapo does not
        encoded(photo(), "TIFF"),
        encoded(photo(), "ICO"),
    ],
)
def test_other_files_are_refused_with_the_accepted_formats(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(PhotoRejected) as caught:
        process(tmp_path, data)
    assert caught.value.status == 422
    for name in ("JPEG", "PNG", "GIF", "WebP", "HEIC", "AVIF"):
        assert name in caught.value.message


def test_image_dimensions_reads_the_header(tmp_path: Path) -> None:
    assert image_dimensions(write(tmp_path, encoded(photo((123, 45)), "PNG"))) == (123, 45)
    assert image_dimensions(write(tmp_path, png_header_only(9000, 9000))) == (9000, 9000)
    with pytest.raises(PhotoRejected):
        image_dimensions(write(tmp_path, b"<svg/>"))
