"""Cost of transcoding an upload: seconds of processing per second of input, and peak memory.

    .venv/bin/python bench/bench_media_video.py [--rounds N] [--seconds S]

Makes a 1280x720 30 fps clip with motion (a moving gradient plus noise, hard for an encoder)
and AAC sound, then times `transcode` on it for x264 presets (median of --rounds runs) and
prints the output size. Peak RSS is the whole process's high-water mark after all runs (the
clip generation included), from getrusage. The figures go in the commit and the lead's notes.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from instance.media import video

WIDTH, HEIGHT, FPS = 1280, 720, 30
PRESETS = ("veryfast", "fast", "medium")


def make_input(path: Path, seconds: float) -> None:
    rng = np.random.default_rng(13)
    out = av.open(str(path), "w")
    stream = out.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    # The source itself at high quality, as a phone would record it.
    stream.codec_context.options = {"crf": "16", "preset": "ultrafast"}
    sound = out.add_stream("aac", rate=48_000, layout="stereo")
    x = np.linspace(0, 4 * np.pi, WIDTH)[None, :]
    y = np.linspace(0, 2 * np.pi, HEIGHT)[:, None]
    for index in range(round(seconds * FPS)):
        phase = index / 10
        base = np.empty((HEIGHT, WIDTH, 3), np.float32)
        base[..., 0] = 127 + 100 * np.sin(x + phase)
        base[..., 1] = 127 + 100 * np.sin(y + 2 * phase)
        base[..., 2] = 127 + 100 * np.sin(x + y - phase)
        noise = rng.normal(0, 12, (HEIGHT, WIDTH, 1)).astype(np.float32)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts = index
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
    samples = round(seconds * 48_000)
    tone = (0.2 * np.sin(2 * np.pi * 330 * np.arange(samples) / 48_000)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = tone[start : start + 1024]
        audio = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
        audio.sample_rate, audio.pts, audio.time_base = 48_000, start, Fraction(1, 48_000)
        out.mux(sound.encode(audio))
    out.mux(sound.encode(None))
    out.close()


def time_preset(source: Path, workdir: Path, preset: str, rounds: int) -> tuple[float, int]:
    video.X264_OPTIONS["preset"] = preset  # the module's setting, for this process only
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = video.transcode(source, workdir)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result.video.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per preset (median)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the input clip")
    args = parser.parse_args()
    chosen = video.X264_OPTIONS["preset"]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "input.mp4"
        make_input(source, args.seconds)
        print(
            f"CPUs: {os.cpu_count()}  encoder: {video.h264_encoder()}  "
            f"input: {WIDTH}x{HEIGHT} {FPS} fps {args.seconds:g} s + AAC, "
            f"{source.stat().st_size / 1e6:.1f} MB  rounds: {args.rounds}"
        )
        header = f"{'preset':>9} {'median s':>9} {'s per s of input':>17} {'output MB':>10}"
        print(header)
        print("-" * len(header))
        for preset in PRESETS:
            seconds, size = time_preset(source, Path(tmp) / preset, preset, args.rounds)
            mark = "  (Gapo's choice)" if preset == chosen else ""
            print(
                f"{preset:>9} {seconds:>9.2f} {seconds / args.seconds:>17.3f} "
                f"{size / 1e6:>10.2f}{mark}"
            )
        video.X264_OPTIONS["preset"] = chosen
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
