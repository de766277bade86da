"""Argon2id cost per hash, and what the bounded pool of password threads sustains.

    .venv/bin/python bench/bench_argon2.py [--rounds N] [--burst N]

For each parameter set: the median time of one hash on one thread, then the rate
(hashes per second) when a burst of concurrent hashes goes through `BoundedPool` with
2 worker threads, as `gapo serve` runs it. argon2-cffi releases the GIL while hashing,
so two threads use two cores. The figures go in docs/passwords.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from argon2 import PasswordHasher

from instance.pools import BoundedPool

PARAMETER_SETS = [
    # (time_cost, memory KiB, parallelism, note)
    (2, 19 * 1024, 1, "OWASP minimum; Gapo's default"),
    (1, 47 * 1024, 1, "OWASP alternative"),
    (3, 12 * 1024, 1, "OWASP alternative"),
    (3, 64 * 1024, 1, "RFC 9106 second choice"),
    (1, 1024, 1, "tests only (FAST_ARGON2)"),
]
PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark input)


def single_hash_ms(hasher: PasswordHasher, rounds: int) -> float:
    hasher.hash(PASSWORD)  # warm up: first allocation of the memory block
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        hasher.hash(PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def pool_rate(hasher: PasswordHasher, burst: int, workers: int) -> float:
    pool = BoundedPool("bench", workers, burst)
    try:
        start = time.perf_counter()
        await asyncio.gather(*(pool.run(hasher.hash, PASSWORD) for _ in range(burst)))
        return burst / (time.perf_counter() - start)
    finally:
        pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="single-thread hashes per set")
    parser.add_argument("--burst", type=int, default=40, help="concurrent hashes into the pool")
    parser.add_argument("--workers", type=int, default=2, help="threads in the pool")
    args = parser.parse_args()

    print(
        f"CPUs: {os.cpu_count()}  rounds: {args.rounds}  burst: {args.burst}  "
        f"pool workers: {args.workers}"
    )
    header = f"{'t':>2} {'memory':>8} {'p':>2} {'1 hash ms':>10} {'pool hashes/s':>14}  note"
    print(header)
    print("-" * len(header))
    for time_cost, memory_kib, parallelism, note in PARAMETER_SETS:
        hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        ms = single_hash_ms(hasher, args.rounds)
        rate = asyncio.run(pool_rate(hasher, args.burst, args.workers))
        print(
            f"{time_cost:>2} {memory_kib // 1024:>5} MiB {parallelism:>2} {ms:>10.1f} "
            f"{rate:>14.1f}  {note}"
        )


if __name__ == "__main__":
    main()
