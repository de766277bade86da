"""Running the queued `fanout` jobs in a test, without the runner's other jobs.

Posting enqueues one `fanout` job; tests that look at the `deliver` jobs a post makes
expand it first, exactly as the runner would (the same handler), then mark it done.
"""

from __future__ import annotations

import json

from instance.db import jobs as jobs_q
from instance.ids import now
from instance.outbound.fanout import FANOUT, FanOutJob
from instance.services import Services


async def expand_fanouts(services: Services) -> int:
    """Run every queued fan-out job once; returns how many ran."""
    handler = FanOutJob(services.db, services.posts.writer.outbox)
    ran = 0
    for job in await jobs_q.list_by_kind(services.db, FANOUT):
        if job["state"] != "queued":
            continue
        await handler(json.loads(job["payload"]), job)
        await jobs_q.finish(services.db, job["id"], now())
        ran += 1
    return ran
