"""A stopping runner (`gapo worker` on SIGTERM, `gapo serve` shutting down) claims nothing
more, lets jobs in flight finish for a grace period and hands back the rest at once."""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Quart

from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.ids import now
from instance.jobs.runner import JobRunner
from tests.helpers.social import gapo


async def started_runner(app: Quart, handler: Any, grace: float) -> tuple[JobRunner, int]:
    """A runner of the app's queue with one `probe` job, started and running that job."""
    services = gapo(app)
    runner = JobRunner(services.db, services.queue, {"probe": handler}, stop_grace=grace)
    job_id = await services.queue.enqueue(services.db, "probe", {})
    runner.start()
    async with asyncio.timeout(10):
        while job_id not in runner._running:
            await asyncio.sleep(0.01)
    return runner, job_id


async def test_a_job_in_flight_finishes_within_the_grace_period(app: Quart) -> None:
    async def short(payload: dict[str, Any], job: Row) -> None:
        await asyncio.sleep(0.3)

    runner, job_id = await started_runner(app, short, grace=10)
    await runner.stop()
    job = await jobs_q.get(gapo(app).db, job_id)
    assert job is not None and job["state"] == "done"


async def test_a_job_past_the_grace_period_is_released_not_left_leased(app: Quart) -> None:
    async def hangs(payload: dict[str, Any], job: Row) -> None:
        await asyncio.Event().wait()

    runner, job_id = await started_runner(app, hangs, grace=0.2)
    await runner.stop()
    job = await jobs_q.get(gapo(app).db, job_id)
    assert job is not None
    assert (job["state"], job["locked_by"], job["attempts"]) == ("queued", None, 0)
    # Another runner takes it now, not when the 300 s lease would have run out.
    assert await jobs_q.claim(gapo(app).db, job_id, "another runner", now(), 300)


async def test_a_stopped_runner_claims_nothing_more(app: Quart) -> None:
    async def short(payload: dict[str, Any], job: Row) -> None:
        await asyncio.sleep(0.1)

    runner, _ = await started_runner(app, short, grace=10)
    await runner.stop()
    later = await gapo(app).queue.enqueue(gapo(app).db, "probe", {})
    assert await runner.run_once() == 0
    job = await jobs_q.get(gapo(app).db, later)
    assert job is not None and job["state"] == "queued"
