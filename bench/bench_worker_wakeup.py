"""Enqueue → claim latency of a job runner in another process: wake-up socket vs poll only.

A child process runs a `JobRunner` on the database, as `gapo worker` does; this process
enqueues one job at a time, as `gapo serve --no-jobs` does, and the child's handler reports
how long after the enqueue call it started (the commit, the wake-up, the runner's read and
its claim). With `--mode socket` the enqueuing process wakes the runner through its Unix
datagram socket (instance/jobs/unix_wakeup.py); with `--mode poll` it does not, and only the
runner's poll finds the job.

    .venv/bin/python bench/bench_worker_wakeup.py --jobs 100 --mode both

Jobs are spaced by a random pause of up to one poll interval, so that when they arrive is
spread evenly over the runner's poll cycle (a fixed pause would line up with it).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from instance.db.connection import Row
from instance.db.migrate import migrate
from instance.db.sqlite import SqliteDatabase
from instance.ids import IdGenerator
from instance.jobs.queue import JobQueue
from instance.jobs.runner import JobRunner
from instance.jobs.unix_wakeup import UnixSocketWakeup, wake_dir
from instance.jobs.wakeup import JobWakeup, LocalWakeup

PROBE = "probe"


def _wakeup(mode: str, data_dir: Path) -> JobWakeup:
    return UnixSocketWakeup(wake_dir(data_dir)) if mode == "socket" else LocalWakeup()


def runner_process(
    data_dir: str, mode: str, poll: float, results: Any, ready: Event, stop: Event
) -> None:
    """The other process: a runner whose handler reports each job's latency."""
    asyncio.run(_run_runner(Path(data_dir), mode, poll, results, ready, stop))


async def _run_runner(
    data_dir: Path, mode: str, poll: float, results: Any, ready: Event, stop: Event
) -> None:
    db = SqliteDatabase(data_dir / "gapo.sqlite3")
    await db.open()

    async def probe(payload: dict[str, Any], job: Row) -> None:
        results.put(time.time() - float(payload["t"]))

    runner = JobRunner(db, JobQueue(IdGenerator(2), _wakeup(mode, data_dir)), {PROBE: probe})
    runner.poll_interval = poll
    runner.start()  # binds the wake-up socket before saying it is ready
    ready.set()
    await asyncio.to_thread(stop.wait)
    await runner.stop()
    await db.close()


async def measure(data_dir: Path, mode: str, jobs: int, poll: float, seed: int) -> list[float]:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    ready, stop = ctx.Event(), ctx.Event()
    child = ctx.Process(
        target=runner_process, args=(str(data_dir), mode, poll, results, ready, stop)
    )
    child.start()
    db = SqliteDatabase(data_dir / "gapo.sqlite3")
    await db.open()
    queue = JobQueue(IdGenerator(1), _wakeup(mode, data_dir))
    rng = random.Random(seed)
    latencies: list[float] = []
    try:
        if not await asyncio.to_thread(ready.wait, 30):
            raise RuntimeError("the runner process did not start")
        await asyncio.sleep(0.5)  # its first round has found nothing and it now waits
        for _ in range(jobs):
            await asyncio.sleep(rng.uniform(0.05, 0.05 + poll))
            async with db.transaction() as tx:
                await queue.enqueue(tx, PROBE, {"t": time.time()})
            latencies.append(await asyncio.to_thread(results.get, True, poll + 10))
    finally:
        stop.set()
        await asyncio.to_thread(child.join, 30)
        queue.wakeup.close()
        await db.close()
    return latencies


def report(mode: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{mode:>6}: {len(ms)} jobs, median {statistics.median(ms):7.1f} ms,"
        f" p95 {p95:7.1f} ms, max {ms[-1]:7.1f} ms, min {ms[0]:6.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--mode", choices=["socket", "poll", "both"], default="both")
    parser.add_argument("--poll", type=float, default=1.0, help="the runner's poll interval (s)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    modes = ["socket", "poll"] if args.mode == "both" else [args.mode]
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="gapo-wakeup-") as tmp:
            data_dir = Path(tmp)
            await migrate(f"sqlite:///{data_dir / 'gapo.sqlite3'}", data_dir / "gapo.sqlite3")
            latencies = await measure(data_dir, mode, args.jobs, args.poll, args.seed)
            print(report(mode, latencies), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
