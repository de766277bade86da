"""The job runner is woken when an enqueued job becomes visible: after its transaction commits."""

from __future__ import annotations

import pytest
from quart import Quart

from tests.social import gapo


async def test_enqueue_in_a_transaction_wakes_the_runner_only_after_commit(app: Quart) -> None:
    queue = gapo(app).queue
    queue.wakeup.clear()
    async with gapo(app).db.transaction() as tx:
        await queue.enqueue(tx, "deliver", {"n": 1}, host="example.org")
        # A runner woken now would read before the job is committed and then sleep a poll.
        assert not queue.wakeup.is_set()
    assert queue.wakeup.is_set()


async def test_rolled_back_enqueue_wakes_nobody(app: Quart) -> None:
    queue = gapo(app).queue
    queue.wakeup.clear()
    with pytest.raises(RuntimeError):
        async with gapo(app).db.transaction() as tx:
            await queue.enqueue(tx, "deliver", {"n": 2}, host="example.org")
            raise RuntimeError("abandon the write")
    assert not queue.wakeup.is_set()
    count = await gapo(app).db.fetch_value("SELECT COUNT(*) AS n FROM jobs")
    assert count == 0
