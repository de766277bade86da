"""Delivery outcomes written in batches: one transaction for many, nothing dropped on failure."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart

from instance.db import jobs as jobs_q
from instance.ids import now
from instance.outbound.completions import Completions
from instance.outbound.host_book import HostBook
from tests.helpers.social import gapo


async def claimed_jobs(app: Quart, n: int) -> list[int]:
    services = gapo(app)
    async with services.db.transaction() as tx:
        ids = await services.queue.enqueue_many(
            tx, "deliver", [('{"inbox":"https://h.example/inbox"}', "h.example")] * n
        )
    async with services.db.transaction() as tx:
        rows = await jobs_q.claim_many(tx, ids, "runner-a", now(), 300)
    assert [r["id"] for r in rows] == ids
    return ids


async def states(app: Quart) -> dict[int, tuple[str, int]]:
    rows = await gapo(app).db.fetch_all("SELECT id, state, attempts FROM jobs")
    return {r["id"]: (r["state"], r["attempts"]) for r in rows}


async def test_outcomes_are_written_together_in_one_transaction(app: Quart) -> None:
    db = gapo(app).db
    a, b, c = await claimed_jobs(app, 3)
    written: list[list[int]] = []
    completions = Completions(db, HostBook(), delay=60, size=100, on_written=written.append)
    completions.done(a)
    completions.retry(b, attempts=1, run_at=now() + 60, error="503")
    completions.dead(c, attempts=1, error="404")
    assert (await states(app))[a] == ("running", 0)  # nothing written yet: still leased
    opened = 0
    original = db.transaction

    def counted() -> Any:
        nonlocal opened
        opened += 1
        return original()

    db.transaction = counted  # type: ignore[method-assign]
    try:
        await completions.flush()
    finally:
        db.transaction = original  # type: ignore[method-assign]
    assert opened == 1
    assert await states(app) == {a: ("done", 0), b: ("queued", 1), c: ("dead", 1)}
    assert sorted(written[0]) == sorted([a, b, c])
    await completions.close()


async def test_a_failed_write_keeps_the_outcomes_for_the_next(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = gapo(app).db
    a, b = await claimed_jobs(app, 2)
    completions = Completions(db, HostBook(), delay=60, size=100)
    completions.done(a)
    completions.done(b)
    original = jobs_q.finish_many

    async def busy(*_: Any, **__: Any) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(jobs_q, "finish_many", busy)
    with pytest.raises(RuntimeError):
        await completions.flush()
    assert len(completions) == 2
    assert {s for s, _ in (await states(app)).values()} == {"running"}  # rolled back
    monkeypatch.setattr(jobs_q, "finish_many", original)
    await completions.flush()
    assert {s for s, _ in (await states(app)).values()} == {"done"}
    await completions.close()
