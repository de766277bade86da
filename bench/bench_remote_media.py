"""Costs on the remote-media path: parsing hostile attachment lists, and re-encoding images.

    .venv/bin/python bench/bench_remote_media.py [--rounds N]

1. `parse_note` + `content_of` of a Note with 4, 64 and 15,000 attachments (median ms):
   only the first 64 entries are read, so the last two should cost the same.
2. `remote_images.reencode` of a photo at 1, 3 and 12 megapixels (median ms on one
   thread): what one first view of a remote image costs the image pool.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from activitypub.vocab import parse_note
from instance.federation.from_ap.notes import content_of
from instance.media.remote_images import reencode


def hostile_note(count: int) -> dict[str, Any]:
    return {
        "id": "https://x.example/n/1",
        "type": "Note",
        "content": "<p>hi</p>",
        "attachment": [
            {"type": "Image", "mediaType": "image/jpeg", "url": f"https://x.example/{i}.jpg"}
            for i in range(count)
        ],
    }


def median_ms(fn: Any, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def photo(path: Path, megapixels: int) -> None:
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    # Pure noise is the worst case for an encoder; a gradient with mild noise gives a JPEG
    # of about the size a phone's photo has.
    noise = Image.effect_noise((width, height), 12).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(gradient, noise, 0.3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print("parse_note + content_of, by attachment count (median ms):")
    for count in (4, 64, 15_000):
        doc = hostile_note(count)
        ms = median_ms(lambda doc=doc: content_of(parse_note(doc)), args.rounds)
        print(f"  {count:>6}: {ms:8.2f} ms")
    print("reencode to WebP, one thread (median ms):")
    with tempfile.TemporaryDirectory() as tmp:
        for megapixels in (1, 3, 12):
            path = Path(tmp) / f"{megapixels}.jpg"
            photo(path, megapixels)
            size = path.stat().st_size / 1e6
            ms = median_ms(lambda path=path: reencode(path), args.rounds)
            print(f"  {megapixels:>2} MP ({size:4.1f} MB JPEG): {ms:8.1f} ms")


if __name__ == "__main__":
    main()
