"""`gapo worker`: the job runner (deliveries, inbox processing, fetches) in a process of its
own, without HTTP, until SIGINT or SIGTERM; with `--kinds`, only the kinds named there.

Any number of workers and `gapo serve --no-jobs` processes share one database: a job is
claimed with a lease by exactly one runner, and a runner that is killed loses its leases
when they run out. On a signal the worker claims nothing more, lets jobs in flight finish
for a grace period and hands the rest back to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence

from instance.config import Settings
from instance.serve import configure_logging
from instance.services import open_services

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_worker(settings: Settings, kinds: Sequence[str] = ()) -> int:
    """Run jobs until a stop signal: every kind, or only those `kinds` select (kind or group
    names, `jobs/routing.py`); an unknown name raises `UnknownJobKind` before any job runs."""
    configure_logging()
    return asyncio.run(_work(settings, kinds))


async def _work(settings: Settings, kinds: Sequence[str]) -> int:
    # Refuses a database whose schema is not current, before anything runs.
    services = await open_services(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        routed = services.runner.route(kinds) if kinds else None
        services.runner.start()
        which = "jobs" if routed is None else f"jobs of kinds {', '.join(sorted(routed))}"
        print(
            f"Gapo worker {os.getpid()} is running {which} for {settings.host}"
            f" ({services.runner.concurrency} at a time)",
            flush=True,
        )
        await stop.wait()
        log.info("stopping: jobs in flight get %ss to finish", services.runner.stop_grace)
    finally:
        await services.close()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    print(f"Gapo worker {os.getpid()} stopped.", flush=True)
    return 0
