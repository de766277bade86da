"""Cost of transcoding an upload: seconds of processing per second of input, and peak memory.

    .venv/bin/python bench/bench_media_video.py [--rounds N] [--seconds S]

Makes a 1280x720 30 fps clip with motion (moving gradients plus grain)
and AAC sound, then times `transcode` on it for x264 presets (median of --rounds runs) and
prints the output size. Peak RSS is measured in fresh child processes (spawned, so they
share nothing with this one): one that only imports the pipeline, one that also transcodes
the clip once with Gapo's preset; the difference is what a transcode job adds to a worker. The figures go in the commit and the lead's notes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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
        # Grain like a phone's sensor in room light; a sigma of 12 made every preset hit the
        # bitrate ceiling (0.9 MB for 2 s whatever the preset), which measures nothing.
        noise = rng.normal(0, 4, (HEIGHT, WIDTH, 1)).astype(np.float32)
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


def _child(source: str | None, workdir: str) -> None:
    if source is not None:
        video.transcode(Path(source), Path(workdir))
    # VmHWM, not getrusage: Linux keeps ru_maxrss across exec, so a spawned child would
    # report this parent's peak; VmHWM belongs to the child's own address space.
    status = Path("/proc/self/status").read_text()
    peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    Path(workdir, "peak").write_text(peak_kib)


def child_peak_mib(source: Path | None, workdir: Path) -> float:
    """Peak RSS (MiB) of a fresh process that imports the pipeline and, given a source,
    transcodes it once."""
    workdir.mkdir(parents=True, exist_ok=True)
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(str(source) if source else None, str(workdir))
    )
    process.start()
    process.join()
    return int((workdir / "peak").read_text()) / 1024


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
        idle = child_peak_mib(None, Path(tmp) / "idle")
        busy = child_peak_mib(source, Path(tmp) / "busy")
    print(
        f"peak RSS ({chosen}): {busy:.0f} MiB in a process that transcodes once, "
        f"{idle:.0f} MiB for one that only imports the pipeline (+{busy - idle:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
