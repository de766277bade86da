"""The video pipeline for post attachments: probe an upload, then re-encode it to an H.264/AAC
MP4 that every browser plays, upright, at most `max_height` tall, with a JPEG poster and no
metadata at all.

Synchronous and CPU-bound; the caller runs it in a background job, one at a time. Nothing of
the original file but its decoded pixels and samples reaches the output: the container, its
tags (title, comment, location, creation time), chapters, subtitle and data streams and the
display matrix are never copied, because a new file is written from decoded frames only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream
from av.bitstream import BitStreamFilterContext
from PIL import Image

from instance.media.video_errors import VideoRejected, VideoTooLarge, VideoTooLong
from instance.media.video_frames import Upright, clockwise_quarter_turns, output_size
from instance.media.video_probe import (
    DECODE_ERRORS,
    VideoProbe,
    main_video,
    open_input,
    probe,
)

__all__ = [
    "ProcessedVideo",
    "VideoProbe",
    "VideoRejected",
    "VideoTooLarge",
    "VideoTooLong",
    "probe",
    "transcode",
]

VIDEO_FILE = "video.mp4"
POSTER_FILE = "poster.jpg"

# libx264 ships in PyAV's wheels (checked with av.codecs_available on PyAV 18.1 / FFmpeg 8.1);
# the others are what a PyAV built against another FFmpeg might offer instead.
H264_ENCODERS = ("libx264", "libopenh264", "h264_v4l2m2m", "h264_vaapi")
# CRF 23 is x264's default quality. bench/bench_media_video.py, 10 s 1280x720 30 fps with
# grain and AAC, 2 CPUs, median of 3: veryfast 1.45 s per second of input and 2.86 MB,
# fast 1.52 s and 3.01 MB, medium 1.80 s and 3.01 MB. Slower presets bought no smaller file
# under the bitrate ceiling, so the fastest of the three it is.
X264_OPTIONS = {"crf": "23", "preset": "veryfast"}
# A ceiling on the bitrate, so noise or confetti cannot blow up the file: 6 Mbit/s (7.5 MB for
# 10 s) at 1920x1080, in proportion to the pixels below that (VBV; CRF decides under it).
MAX_BITRATE_1080P = 6_000_000
AUDIO_BITRATE = 128_000
AUDIO_RATES = (44_100, 48_000)
# More frames per second than this are dropped (240 fps slow motion would cost 4x for nothing).
MAX_FPS = 60
# H.264 NAL unit type 6 is SEI (supplemental enhancement information).
STRIP_SEI = "filter_units=remove_types=6"
# Frames decoded per second of probed length (plus slack) before decoding stops: far above
# any camera (240 fps slow motion), far below a hostile file of a million tiny frames.
MAX_DECODED_FPS = 1000
# Encoder clock: fine enough for any frame timing (MPEG's 90 kHz), so variable rates survive.
TIME_BASE = Fraction(1, 90_000)
POSTER_AFTER = 0.5  # seconds into a video of at least POSTER_MIN_DURATION
POSTER_MIN_DURATION = 2.0
POSTER_QUALITY = 85
# Damaged packets skipped before the file counts as broken (a bit flipped in transit costs a
# glitch, not the upload; a file of garbage after a valid start is still refused).
MAX_BAD_PACKETS = 25
# Headers may understate the length; decoding stops this far past the probed duration.
DURATION_SLACK = 2.0


@dataclass(frozen=True)
class ProcessedVideo:
    video: Path
    poster: Path
    width: int
    height: int
    duration: float
    has_audio: bool
    blurhash: str | None


def h264_encoder() -> str:
    """The best H.264 encoder this PyAV's FFmpeg has."""
    for name in H264_ENCODERS:
        if name in av.codecs_available:
            with contextlib.suppress(av.error.FFmpegError, ValueError):
                av.Codec(name, "w")
                return name
    raise RuntimeError("PyAV's FFmpeg has no H.264 encoder")


def _frame_rate(stream: av.video.stream.VideoStream) -> int:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or rate <= 0:
        return 30
    return max(1, min(MAX_FPS, round(float(rate))))


def _open_output(path: Path) -> av.container.OutputContainer:
    # +faststart puts the index (moov) before the media data, so playback starts before the
    # whole file is downloaded; +bitexact keeps the muxer from writing its "encoder" tag.
    output = av.open(
        str(path),
        mode="w",
        format="mp4",
        container_options={"movflags": "+faststart", "fflags": "+bitexact"},
    )
    output.metadata.clear()
    return output


def _add_video(
    output: av.container.OutputContainer, size: tuple[int, int], fps: int
) -> av.video.stream.VideoStream:
    encoder = h264_encoder()
    width, height = size
    options = dict(X264_OPTIONS) if encoder == "libx264" else {}
    ceiling = max(500_000, MAX_BITRATE_1080P * width * height // (1920 * 1080))
    options |= {"maxrate": str(ceiling), "bufsize": str(2 * ceiling)}
    stream = output.add_stream(encoder, rate=fps, options=options)
    if not isinstance(stream, av.video.stream.VideoStream):
        raise TypeError(f"{encoder} is not a video encoder")
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = TIME_BASE
    stream.codec_context.time_base = TIME_BASE
    # PyAV asks for slice threads by default; frame threads are what the ffmpeg command uses
    # with x264 and what x264 recommends for throughput (latency does not matter in a job).
    stream.codec_context.thread_type = "FRAME"
    stream.metadata.clear()
    return stream


def _add_audio(
    output: av.container.OutputContainer, source: av.audio.stream.AudioStream
) -> av.audio.stream.AudioStream:
    rate = source.codec_context.sample_rate
    channels = source.codec_context.layout.nb_channels
    stream = output.add_stream(
        "aac",
        rate=rate if rate in AUDIO_RATES else 48_000,
        layout="mono" if channels == 1 else "stereo",
        # Else FFmpeg's AAC encoder writes its name and version ("Lavc62...") into the sound.
        options={"flags": "+bitexact"},
    )
    stream.codec_context.bit_rate = AUDIO_BITRATE // (2 if channels == 1 else 1)
    stream.metadata.clear()
    return stream


@dataclass
class _Clock:
    """Timestamps of the frames kept: from 0, increasing, at most MAX_FPS a second."""

    start: float | None = None
    last_kept: float | None = None
    last_pts: int = -1

    def pts_for(self, seconds: float) -> int | None:
        """The output pts of a frame shown at `seconds`, or None to drop it."""
        if self.start is None:
            self.start = seconds
        if self.last_kept is not None and seconds < self.last_kept + 1 / MAX_FPS - 1e-4:
            return None
        pts = round((seconds - self.start) / TIME_BASE)
        if pts <= self.last_pts:
            return None
        self.last_kept, self.last_pts = seconds, pts
        return pts


class _Transcoder:
    """One run of `transcode`: decoded frames in, encoded packets muxed, poster chosen."""

    def __init__(
        self,
        container: av.container.InputContainer,
        output: av.container.OutputContainer,
        found: VideoProbe,
        *,
        max_height: int,
        with_audio: bool,
        limit: float,
    ) -> None:
        source = main_video(container)
        if source is None:  # the probe found one; a file changed under us is refused
            raise VideoRejected()
        self.source = source
        self.source.thread_type = "AUTO"
        self.audio_in = container.streams.audio[0] if with_audio else None
        self.container, self.output, self.found = container, output, found
        self.max_height, self.limit = max_height, limit
        self.fps = _frame_rate(self.source)
        self.clock = _Clock()
        self.poster: av.VideoFrame | None = None
        self.poster_final = False
        self.video_out: av.video.stream.VideoStream | None = None
        self.audio_out = _add_audio(output, self.audio_in) if self.audio_in else None
        self.upright: Upright | None = None
        self.bad_packets = 0
        self.strip_sei: BitStreamFilterContext | None = None
        # Decoded frames allowed: a file of many frames sharing one timestamp would otherwise
        # be decoded to its end (the clock drops them, but only after decoding).
        self.frames_left = round(limit * MAX_DECODED_FPS)

    def _video_frame(self, frame: av.VideoFrame) -> bool:
        """Filters, encodes and muxes one decoded frame; False once past the probed length
        (a header that understated it: the rest is not decoded)."""
        self.frames_left -= 1
        if self.frames_left < 0:
            return False
        turns = clockwise_quarter_turns(frame.rotation)
        if self.upright is None:
            size = output_size(
                frame.width,
                frame.height,
                turns,
                self.max_height,
                self.source.sample_aspect_ratio,
            )
            time_base = frame.time_base or self.source.time_base or TIME_BASE
            self.upright = Upright(size, time_base)
            # The video stream is added on the first frame, once its size is known; the
            # audio stream was added before, and no sound is muxed before the first picture.
            self.video_out = _add_video(self.output, size, self.fps)
        seconds = frame.time
        if seconds is None:
            seconds = (self.clock.last_kept or 0.0) + 1 / self.fps
        if self.clock.start is not None and seconds - self.clock.start > self.limit:
            return False
        pts = self.clock.pts_for(seconds)
        if pts is None:
            return True
        assert self.video_out is not None
        for upright in self.upright.push(frame, turns):
            self._choose_poster(upright, seconds - (self.clock.start or 0.0))
            upright.pts, upright.time_base = pts, TIME_BASE
            # The source's frame types would force its keyframes on the encoder.
            upright.pict_type = av.video.frame.PictureType.NONE
            self._mux_video(self.video_out.encode(upright))
        return True

    def _mux_video(self, packets: list[av.Packet[av.video.stream.VideoStream]]) -> None:
        """Muxes encoded packets without their SEI units: x264 writes its version and every
        option it ran with into one (800 bytes of "x264 - core 165 ... options: ..."), an
        encoder tag in all but name. Its default settings write no other SEI."""
        assert self.video_out is not None
        for packet in packets:
            if self.strip_sei is None:  # made once the encoder is open and its codec known
                self.strip_sei = BitStreamFilterContext(STRIP_SEI, self.video_out)
            self._mux_filtered(self.strip_sei.filter(packet))

    def _mux_filtered(self, packets: list[av.Packet[av.stream.Stream]]) -> None:
        assert self.video_out is not None
        for packet in packets:
            packet.stream = self.video_out
            self.output.mux(packet)

    def _choose_poster(self, frame: av.VideoFrame, at: float) -> None:
        if self.poster_final:
            return
        if self.poster is None:
            self.poster = frame
        if self.found.duration < POSTER_MIN_DURATION or at >= POSTER_AFTER:
            self.poster = frame
            self.poster_final = True

    def _audio_frame(self, frame: av.AudioFrame) -> None:
        if self.audio_out is None or self.video_out is None:
            return  # sound before the first picture is dropped (rare: an edit list's lead-in)
        frame.pts = None  # the encoder numbers samples from 0, in step with the video clock
        self.output.mux(self.audio_out.encode(frame))

    def run(self) -> None:
        streams: list[av.stream.Stream] = [self.source]
        if self.audio_in is not None:
            streams.append(self.audio_in)
        for packet in self.container.demux(*streams):
            for frame in self._decoded(packet):
                if isinstance(frame, av.VideoFrame):
                    if not self._video_frame(frame):
                        return self._flush()
                elif isinstance(frame, av.AudioFrame):
                    self._audio_frame(frame)
        self._flush()

    def _decoded(self, packet: av.Packet[av.stream.Stream]) -> list[av.VideoFrame | av.AudioFrame]:
        """The frames of one packet; a damaged packet gives none (as players skip it), until
        there are too many of them."""
        try:
            return packet.decode()  # type: ignore[return-value]
        except av.error.InvalidDataError:
            self.bad_packets += 1
            if self.bad_packets > MAX_BAD_PACKETS:
                raise
            return []

    def _flush(self) -> None:
        if self.video_out is None:
            raise VideoRejected()
        self._mux_video(self.video_out.encode(None))
        if self.strip_sei is not None:
            self._mux_filtered(self.strip_sei.filter(None))
        if self.audio_out is not None:
            self.output.mux(self.audio_out.encode(None))


def _save_poster(frame: av.VideoFrame, path: Path) -> None:
    # A Pillow image made from pixels has no EXIF or other info to carry into the JPEG.
    Image.fromarray(frame.to_ndarray(format="rgb24")).save(
        path, "JPEG", quality=POSTER_QUALITY, optimize=True
    )


@contextlib.contextmanager
def _removed_on_failure(*paths: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise


def transcode(
    source: Path,
    workdir: Path,
    *,
    max_height: int = 1080,
    gifv: bool = False,
    max_duration: float = 600.0,
    blurhash_of: Callable[[Path], str] | None = None,
) -> ProcessedVideo:
    """Probes `source` (a path the server chose), then writes `workdir`/video.mp4 (H.264
    yuv420p + AAC, faststart, no metadata) and `workdir`/poster.jpg.

    `gifv` makes a silent video (animated GIFs; any sound of the input is dropped).
    `blurhash_of` computes the poster's blurhash; without it `blurhash` is None.
    Raises VideoRejected, VideoTooLong or VideoTooLarge for bad input, like `probe`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    video_path, poster_path = workdir / VIDEO_FILE, workdir / POSTER_FILE
    found = probe(source, max_duration=max_duration)
    with _removed_on_failure(video_path, poster_path), open_input(source) as container:
        try:
            output = _open_output(video_path)
            try:
                job = _Transcoder(
                    container,
                    output,
                    found,
                    max_height=max_height,
                    with_audio=found.has_audio and not gifv,
                    limit=max(found.duration, 0.0) + DURATION_SLACK,
                )
                job.run()
            finally:
                output.close()
        except (VideoRejected, VideoTooLong, VideoTooLarge):
            raise
        except DECODE_ERRORS as exc:
            raise VideoRejected() from exc
        assert job.poster is not None
        _save_poster(job.poster, poster_path)
        result = probe(video_path, max_duration=max_duration + DURATION_SLACK)
    return ProcessedVideo(
        video=video_path,
        poster=poster_path,
        width=result.width,
        height=result.height,
        duration=result.duration,
        has_audio=result.has_audio,
        blurhash=blurhash_of(poster_path) if blurhash_of is not None else None,
    )
