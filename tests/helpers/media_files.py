"""Media files for tests: a JPEG with GPS in its EXIF, a tiny real MP4, and a file server.

`FileServer` is a loopback aiohttp server that serves fixed bytes at fixed paths with the
Content-Type the test chooses (a lying one included) and counts the GETs of each path.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field

import av
import numpy as np
from aiohttp import web
from PIL import ExifTags, Image


def jpeg_with_gps(
    size: tuple[int, int] = (320, 240), color: tuple[int, int, int] = (30, 120, 200)
) -> bytes:
    """A JPEG carrying a camera make and model and a GPS position (Hanoi)."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "SecretPhone 9"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (21.0, 1.0, 42.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (105.0, 51.0, 15.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    # The fixture really carries GPS data, or a test of its removal would prove nothing.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def tiny_mp4(width: int = 64, height: int = 48, frames: int = 3) -> bytes:
    """A real H.264 MP4 of a few grey frames (PyAV's FFmpeg)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            pixels = np.full((height, width, 3), i * 40, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@dataclass
class FileServer:
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, type)
    gets: Counter[str] = field(default_factory=Counter)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FileServer:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def _serve(self, request: web.Request) -> web.Response:
        self.gets[request.path] += 1
        found = self.files.get(request.path)
        if found is None:
            return web.Response(status=404)
        body, content_type = found
        return web.Response(body=body, headers={"Content-Type": content_type})
