"""Cost of the photo pipeline per upload, and of the BlurHash encoder alone.

    .venv/bin/python bench/bench_media_images.py [--runs N]

Each case runs `process_photo` N times in a fresh child process (so that its peak RSS is
its own) on an input generated beforehand: a 12 MP phone-sized JPEG and HEIC (a gradient
with sensor-like noise, so they compress like photos, not like flat colour), a 2 MP JPEG
and a PNG with alpha. Figures: the median wall time of one call on one thread, the size
of the outputs, and the child's peak RSS (with the child's RSS before the first call,
i.e. Python + Pillow + numpy, for reference). Linux only (peak RSS from /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from instance.media import blurhash
from instance.media.photos import process_photo

CASES = {
    "jpeg-12mp": ("12 MP JPEG 4000x3000", "JPEG", (4000, 3000), False),
    "heic-12mp": ("12 MP HEIC 4032x3024", "HEIF", (4032, 3024), False),
    "jpeg-2mp": ("2 MP JPEG 1632x1224", "JPEG", (1632, 1224), False),
    "png-alpha": ("PNG RGBA 2000x1500", "PNG", (2000, 1500), True),
}


def photo_like(size: tuple[int, int], alpha: bool, seed: int = 13) -> Image.Image:
    """A smooth two-axis gradient plus Gaussian noise (sigma 6), like a phone sensor's."""
    width, height = size
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    channels = [xs * 200 + ys * 40, ys * 180 + 30, (1 - xs) * 150 + ys * 60]
    planes = []
    for base in channels:
        noisy = base + rng.normal(0, 6, (height, width)).astype(np.float32)
        planes.append(np.clip(noisy, 0, 255).astype(np.uint8))
    image = Image.merge("RGB", [Image.fromarray(p, "L") for p in planes])
    if alpha:
        # A round sticker: opaque disc, transparent corners, a soft edge.
        yy, xx = np.ogrid[:height, :width]
        r = np.hypot(xx - width / 2, yy - height / 2) / (min(width, height) / 2)
        image.putalpha(Image.fromarray((np.clip((1.05 - r) * 20, 0, 1) * 255).astype(np.uint8)))
    return image


def peak_rss_mib() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: that survives exec(), so a child
    would report the parent's peak (the generated inputs) as its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return float("nan")


def child(case: str, source: Path, runs: int) -> None:
    """Runs in its own process: time process_photo on `source`, print one JSON line."""
    before = peak_rss_mib()
    workdir = Path(tempfile.mkdtemp(prefix="bench-photo-out-"))
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = process_photo(source, workdir)
        times.append(time.perf_counter() - start)
    assert result is not None
    print(
        json.dumps(
            {
                "case": case,
                "ms": statistics.median(times) * 1000,
                "source_kib": source.stat().st_size / 1024,
                "out": f"{result.width}x{result.height} {result.original_ext}",
                "out_kib": result.original.stat().st_size / 1024,
                "thumb_kib": result.thumbnail.stat().st_size / 1024,
                "rss_before": before,
                "rss_peak": peak_rss_mib(),
            }
        )
    )


def blurhash_rows(runs: int) -> list[tuple[str, float]]:
    thumb = photo_like((640, 480), alpha=False)
    rows = []
    for label, picture, max_side in [
        ("640x480 thumbnail, 64 px copy (as process_photo)", thumb, blurhash.SAMPLE_SIDE),
        ("100x75 pixels, every pixel", np.asarray(thumb.resize((100, 75))), None),
        ("640x480, every pixel", np.asarray(thumb), None),
    ]:
        blurhash.encode(picture, max_side=max_side)  # warm up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            blurhash.encode(picture, max_side=max_side)
            times.append(time.perf_counter() - start)
        rows.append((label, statistics.median(times) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="calls per case (median)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.runs)
        return

    print(f"CPUs: {os.cpu_count()}  runs per case: {args.runs}  (median, one thread)")
    with tempfile.TemporaryDirectory(prefix="bench-photo-") as tmp:
        header = (
            f"{'case':<22} {'source':>9} {'ms':>7} {'output':>15} {'out':>9} {'thumb':>7} "
            f"{'RSS base':>9} {'RSS peak':>9}"
        )
        print(header)
        print("-" * len(header))
        for case, (label, pil_format, size, alpha) in CASES.items():
            source = Path(tmp) / case
            image = photo_like(size, alpha)
            # Phone-like sizes: about 3 MB for 12 MP, whatever the codec.
            options = {"JPEG": {"quality": 92}, "HEIF": {"quality": 50}, "PNG": {}}[pil_format]
            image.save(source, pil_format, **options)
            del image
            line = subprocess.run(
                [sys.executable, __file__, "--runs", str(args.runs), "--child", case, source],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            row = json.loads(line)
            print(
                f"{label:<22} {row['source_kib'] / 1024:>6.1f} MB {row['ms']:>7.0f} "
                f"{row['out']:>15} {row['out_kib'] / 1024:>6.2f} MB {row['thumb_kib']:>4.0f} kB "
                f"{row['rss_before']:>5.0f} MiB {row['rss_peak']:>5.0f} MiB"
            )
    print()
    print(f"{'blurhash.encode (4x3 components)':<52} {'ms':>7}")
    for label, ms in blurhash_rows(max(args.runs, 50)):
        print(f"{label:<52} {ms:>7.2f}")


if __name__ == "__main__":
    main()
