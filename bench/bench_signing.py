"""Signing deliveries: one thread, a thread pool, or a process pool? Does the GIL bind?

    .venv/bin/python bench/bench_signing.py [--n 2000] [--workers 2]

Signs `--n` deliveries (draft-cavage, RSA-2048, a 1.2 KB body, as a fan-out does) with
`instance.outbound.signing.sign_batch` in chunks of 8: serially, on `--workers` threads,
and on `--workers` processes (forkserver; the key travels with each chunk, as it would).
Prints wall ms per signature and the speed-up over serial. Threads scale only if RSA in
`cryptography` runs without the GIL; processes pay pickling and a hop per chunk.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from instance.outbound.signing import SignItem, sign_batch

CHUNK = 8


def items(n: int, pem: str) -> list[list[SignItem]]:
    body = b'{"x":"' + b"y" * 1200 + b'"}'
    headers = {"Content-Type": "application/activity+json", "Accept": "*/*", "User-Agent": "b"}
    every = [
        SignItem(
            "cavage",
            "POST",
            f"https://h{i % 10}.example/users/u{i}/inbox",
            headers,
            body,
            "https://gapo.example/users/a#main-key",
            pem,
        )
        for i in range(n)
    ]
    return [every[i : i + CHUNK] for i in range(0, n, CHUNK)]


def timed(executor: Executor | None, chunks: list[list[SignItem]]) -> float:
    start = time.perf_counter()
    if executor is None:
        for chunk in chunks:
            sign_batch(chunk)
    else:
        list(executor.map(sign_batch, chunks))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    chunks = items(args.n, pem)
    timed(None, items(16, pem))  # the key loaded once, as in a running server
    serial = timed(None, chunks)
    with ThreadPoolExecutor(args.workers) as threads:
        timed(threads, items(16, pem))
        threaded = timed(threads, chunks)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.workers, mp_context=context) as processes:
        timed(processes, items(16 * args.workers, pem))  # start and warm every process
        forked = timed(processes, chunks)
    print("| how | ms per signature (wall) | speed-up over serial |")
    print("|---|---|---|")
    for name, seconds in (
        ("serial, one thread", serial),
        (f"{args.workers} threads", threaded),
        (f"{args.workers} processes", forked),
    ):
        print(f"| {name} | {seconds * 1000 / args.n:.3f} | {serial / seconds:.2f}× |")


if __name__ == "__main__":
    main()
