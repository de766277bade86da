"""Probe an uploaded video: is it a real video in an accepted container, and how big is it.

Synchronous and CPU-bound; the caller runs it in a background job. The file is opened only
through `open_input`, which fences what FFmpeg may do with a hostile file: the demuxers it may
pick, the protocols it may follow (the file alone: no references to other files or URLs) and how
much it may read before it must know the streams. Every failure of FFmpeg, of the OS or of PyAV
becomes one of the errors of video_errors, so nothing else reaches the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import av.container
import av.error
import av.stream
import av.video.stream

from instance.media.video_errors import VideoRejected, VideoTooLarge, VideoTooLong

# Demuxer names as FFmpeg spells them. MP4/MOV/3GP share one demuxer, WebM is Matroska, and
# GIF is here for "gifv" (animated GIFs turned into silent MP4). Everything else FFmpeg can
# read (MPEG-TS, AVI, FLV, HLS playlists, image sequences...) is attack surface we do not need.
ACCEPTED_DEMUXERS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "gif")
# Decoders we let near user bytes: what phones, cameras, browsers and GIFs produce.
VIDEO_DECODERS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "libdav1d", "mpeg4", "gif", "mjpeg", "prores"}
)
AUDIO_DECODERS = frozenset(
    {"aac", "mp3", "mp3float", "opus", "libopus", "vorbis", "alac", "flac", "ac3", "eac3"}
)
# Inputs with another audio codec keep their picture and lose the sound (no decoder runs).
AUDIO_PCM_PREFIX = "pcm_"

# How much FFmpeg may read to find the streams: 5 MB and 5 s of media (FFmpeg's own default
# is 5 MB as well; the bound is what matters: a file cannot make the probe read on and on).
PROBE_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}
CONTAINER_OPTIONS = {
    "format_whitelist": ",".join(ACCEPTED_DEMUXERS),
    "protocol_whitelist": "file",
    # MOV "data references" may point at other files; FFmpeg ignores them by default, we say so.
    "enable_drefs": "0",
}
# A first frame must come out within this many packets, or the file is not a video we can use.
FIRST_FRAME_PACKETS = 300

# The errors FFmpeg and PyAV raise on bad input. av.error.FFmpegError covers every AVERROR;
# the builtins come from PyAV's own checks and conversions (odd timestamps, missing parts).
# AttributeError too: PyAV returns None for parts a damaged file lacks (found by the fuzz test
# in tests/test_media_video_refusals.py); the checks below handle the ones seen.
DECODE_ERRORS = (
    av.error.FFmpegError,
    OSError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    EOFError,
)


@dataclass(frozen=True)
class VideoProbe:
    container: str
    width: int
    height: int
    duration: float
    has_audio: bool
    video_codec: str
    frames_estimate: int | None


@contextmanager
def open_input(path: Path) -> Iterator[av.container.InputContainer]:
    """Opens a server-chosen path for reading under the fences above; VideoRejected if FFmpeg
    cannot or may not read it."""
    try:
        container = av.open(
            str(path),
            mode="r",
            options=PROBE_OPTIONS,
            container_options=CONTAINER_OPTIONS,
            metadata_errors="ignore",
        )
    except DECODE_ERRORS as exc:
        raise VideoRejected() from exc
    try:
        yield container
    finally:
        container.close()


def main_video(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream that is a moving picture: not the cover art an M4A or MP4 may
    carry as a one-frame "attached picture" (or a music file would pass for a video)."""
    still = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
    for stream in container.streams.video:
        if not stream.disposition & still:
            return stream
    return None


def audio_usable(container: av.container.InputContainer) -> bool:
    """Whether the first audio stream is one we decode (an exotic codec is dropped, not refused)."""
    if not container.streams.audio:
        return False
    context = container.streams.audio[0].codec_context
    if context is None:  # FFmpeg has no decoder for it
        return False
    name = context.name or ""
    return (name in AUDIO_DECODERS or name.startswith(AUDIO_PCM_PREFIX)) and context.sample_rate > 0


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _frames_estimate(stream: av.video.stream.VideoStream, duration: float) -> int | None:
    if stream.frames > 0:
        return int(stream.frames)
    rate = stream.average_rate
    if rate and rate > 0:
        return max(1, round(duration * float(rate)))
    return None


def _first_frame_size(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> tuple[int, int] | None:
    """Width and height of the first decoded frame, or None when none comes out in time."""
    for count, packet in enumerate(container.demux(stream)):
        if count >= FIRST_FRAME_PACKETS:
            return None
        for frame in packet.decode():
            return frame.width, frame.height
    return None


def inspect(
    container: av.container.InputContainer, *, max_duration: float, max_pixels: int
) -> VideoProbe:
    """The checks of `probe`, on a container already open (transcode reuses it)."""
    if container.format.name.split(",")[0] not in ACCEPTED_DEMUXERS:
        raise VideoRejected()
    stream = main_video(container)
    if stream is None:
        raise VideoRejected()
    if stream.codec_context is None:  # FFmpeg has no decoder for it
        raise VideoRejected()
    codec = stream.codec_context.name or ""
    if codec not in VIDEO_DECODERS:
        raise VideoRejected()
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise VideoRejected()
    megapixels = max_pixels // 1_000_000
    if width * height > max_pixels:
        raise VideoTooLarge(megapixels=megapixels)
    duration = _duration(container, stream)
    if not math.isfinite(duration) or duration <= 0:
        raise VideoRejected()
    if duration > max_duration:
        raise VideoTooLong(seconds=int(max_duration))
    first = _first_frame_size(container, stream)
    if first is None or first[0] <= 0 or first[1] <= 0:
        raise VideoRejected()
    # The headers may lie about the size; the decoded frame is what costs memory.
    if first[0] * first[1] > max_pixels:
        raise VideoTooLarge(megapixels=megapixels)
    return VideoProbe(
        container=container.format.name.split(",")[0],
        width=first[0],
        height=first[1],
        duration=duration,
        has_audio=audio_usable(container),
        video_codec=codec,
        frames_estimate=_frames_estimate(stream, duration),
    )


def probe(path: Path, *, max_duration: float = 600.0, max_pixels: int = 4096 * 4096) -> VideoProbe:
    """Opens a video the server stored at `path` and checks it is one Gapo can use.

    Raises VideoRejected (not a video, not an accepted container or codec, no frame decodes),
    VideoTooLong (beyond `max_duration` seconds) or VideoTooLarge (frame beyond `max_pixels`),
    and nothing else, whatever the bytes.
    """
    with open_input(path) as container:
        try:
            return inspect(container, max_duration=max_duration, max_pixels=max_pixels)
        except DECODE_ERRORS as exc:
            raise VideoRejected() from exc
