"""Queries on `jobs`: the persistent queue. A job is claimed by one runner with a lease;
a lease that runs out (the process died) makes the job claimable again."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from instance.db.executor import Executor
from instance.db.rows import JobCountRow, JobRow, JobSlotRow, QueuedCountRow

JOB_COLUMNS = (
    "id, kind, payload, host, state, attempts, run_at, locked_by, locked_until, last_error,"
    " created_at, finished_at"
)


async def enqueue(
    ex: Executor, *, job_id: int, kind: str, payload: str, host: str, run_at: int, now: int
) -> None:
    await ex.execute(
        "INSERT INTO jobs (id, kind, payload, host, state, attempts, run_at, created_at)"
        " VALUES (:id, :kind, :payload, :host, 'queued', 0, :run_at, :now)",
        {
            "id": job_id,
            "kind": kind,
            "payload": payload,
            "host": host,
            "run_at": run_at,
            "now": now,
        },
    )


def enqueue_statement(
    *,
    job_id: int,
    kind: str,
    payload: str,
    host: str,
    run_at: int,
    now: int,
    if_row_in: tuple[str, int],
) -> tuple[str, dict[str, Any]]:
    """The INSERT of a job that is added only if row `id` exists in table `if_row_in[0]`
    (a code constant), to run in one batch after the statement that may insert that row:
    the inbox stores an activity and its job in one trip (`db/inbox.py`)."""
    table, row_id = if_row_in
    return (
        "INSERT INTO jobs (id, kind, payload, host, state, attempts, run_at, created_at)"
        " SELECT :id, :kind, :payload, :host, 'queued', 0, :run_at, :now"
        f" WHERE EXISTS (SELECT 1 FROM {table} WHERE id = :row)",
        {
            "id": job_id,
            "kind": kind,
            "payload": payload,
            "host": host,
            "run_at": run_at,
            "now": now,
            "row": row_id,
        },
    )


def _in_list(
    column: str, prefix: str, values: Collection[str | int], params: dict[str, Any]
) -> str:
    """`column IN (:p0, :p1, …)` with the values added to `params`."""
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return f"{column} IN ({', '.join(names)})"


async def enqueue_many(
    ex: Executor, jobs: Sequence[tuple[int, str, str]], *, kind: str, run_at: int, now: int
) -> None:
    """Insert (id, payload, host) jobs of one kind, 100 rows per statement: a fan-out adds
    hundreds per transaction, and a statement each cost a thread hop each."""
    for start in range(0, len(jobs), 100):
        chunk = jobs[start : start + 100]
        params: dict[str, Any] = {"kind": kind, "run_at": run_at, "now": now}
        values = []
        for i, (job_id, payload, host) in enumerate(chunk):
            params.update({f"i{i}": job_id, f"p{i}": payload, f"h{i}": host})
            values.append(f"(:i{i}, :kind, :p{i}, :h{i}, 'queued', 0, :run_at, :now)")
        await ex.execute(
            "INSERT INTO jobs (id, kind, payload, host, state, attempts, run_at, created_at)"
            f" VALUES {', '.join(values)}",
            params,
        )


async def due(
    ex: Executor,
    now: int,
    limit: int,
    exclude_hosts: Collection[str] = (),
    *,
    kinds: Collection[str] = (),
    exclude_kinds: Collection[str] = (),
) -> list[JobRow]:
    """Queued jobs whose time has come, and running ones whose lease expired.

    `exclude_hosts` are hosts the caller cannot take more jobs for right now: leaving them
    out lets a backlog for one slow host never hide the jobs of the others. `kinds` keeps
    only those kinds; `exclude_kinds` leaves kinds out (the ones a delivery lane runs).
    """
    params: dict[str, Any] = {"now": now, "limit": limit}
    skip = ""
    if exclude_hosts:
        skip += " AND NOT " + _in_list("host", "h", list(exclude_hosts), params)
    if kinds:
        skip += " AND " + _in_list("kind", "k", list(kinds), params)
    if exclude_kinds:
        skip += " AND NOT " + _in_list("kind", "x", list(exclude_kinds), params)
    return await ex.fetch_all(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE ((state = 'queued' AND run_at <= :now)"
        f" OR (state = 'running' AND locked_until < :now)){skip} ORDER BY run_at, id LIMIT :limit",
        params,
    )


async def claim(ex: Executor, job_id: int, runner: str, now: int, lease: int) -> bool:
    changed = await ex.execute(
        "UPDATE jobs SET state = 'running', locked_by = :runner, locked_until = :until"
        " WHERE id = :id AND ((state = 'queued' AND run_at <= :now)"
        " OR (state = 'running' AND locked_until < :now))",
        {"id": job_id, "runner": runner, "until": now + lease, "now": now},
    )
    return changed > 0


async def held_by_others(
    ex: Executor, now: int, *, kinds: Collection[str], runner: str
) -> dict[str, int]:
    """Per host, the jobs of `kinds` other runners hold under a lease now (in any process on
    any machine): what a lane counts against a host's limit besides its own."""
    params: dict[str, Any] = {"now": now, "runner": runner}
    kind_list = _in_list("kind", "k", list(kinds), params)
    rows = await ex.fetch_all(
        "SELECT host, COUNT(*) AS n FROM jobs WHERE state = 'running'"
        f" AND locked_until >= :now AND locked_by <> :runner AND {kind_list} GROUP BY host",
        params,
    )
    return {str(r["host"]): int(r["n"]) for r in rows}


async def due_per_host(
    ex: Executor,
    now: int,
    *,
    kinds: Collection[str],
    per_host: int,
    limit: int,
    exclude_hosts: Collection[str] = (),
) -> list[JobSlotRow]:
    """Ids and hosts of due jobs of `kinds`, at most `per_host` per host, oldest first.

    Only two columns and only as many rows per host as a caller could take: a fan-out's
    jobs come host by host, and reading whole rows (payloads of ~1 KB) of a host whose
    room was 2 cost more than the deliveries themselves.
    """
    params: dict[str, Any] = {"now": now, "limit": limit, "per_host": per_host}
    where = " AND " + _in_list("kind", "k", list(kinds), params)
    if exclude_hosts:
        where += " AND NOT " + _in_list("host", "h", list(exclude_hosts), params)
    return await ex.fetch_all(
        "SELECT id, host FROM (SELECT id, host, run_at,"
        " ROW_NUMBER() OVER (PARTITION BY host ORDER BY run_at, id) AS n FROM jobs"
        " WHERE ((state = 'queued' AND run_at <= :now)"
        f" OR (state = 'running' AND locked_until < :now)){where}) AS due"
        " WHERE n <= :per_host ORDER BY run_at, id LIMIT :limit",
        params,
    )


async def claim_many(
    ex: Executor, job_ids: Collection[int], runner: str, now: int, lease: int
) -> list[JobRow]:
    """Claim several due jobs in one statement; returns the rows this runner now holds.

    Run it inside a transaction: the read-back then sees exactly what the UPDATE took
    (a job another runner claimed first keeps its own `locked_by`).
    """
    if not job_ids:
        return []
    params: dict[str, Any] = {"runner": runner, "until": now + lease, "now": now}
    ids = _in_list("id", "j", list(job_ids), params)
    await ex.execute(
        "UPDATE jobs SET state = 'running', locked_by = :runner, locked_until = :until"
        f" WHERE {ids} AND ((state = 'queued' AND run_at <= :now)"
        " OR (state = 'running' AND locked_until < :now))",
        params,
    )
    return await ex.fetch_all(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE {ids} AND state = 'running'"
        " AND locked_by = :runner AND locked_until = :until ORDER BY run_at, id",
        params,
    )


async def finish_many(ex: Executor, job_ids: Collection[int], now: int) -> None:
    """Mark several jobs done in one statement (a delivery lane's batch of completions)."""
    if not job_ids:
        return
    params: dict[str, Any] = {"now": now}
    ids = _in_list("id", "j", list(job_ids), params)
    await ex.execute(
        "UPDATE jobs SET state = 'done', finished_at = :now, locked_by = NULL,"
        f" locked_until = NULL WHERE {ids}",
        params,
    )


async def finish(ex: Executor, job_id: int, now: int) -> None:
    await ex.execute(
        "UPDATE jobs SET state = 'done', finished_at = :now, locked_by = NULL,"
        " locked_until = NULL WHERE id = :id",
        {"id": job_id, "now": now},
    )


async def retry_later(ex: Executor, job_id: int, *, attempts: int, run_at: int, error: str) -> None:
    await ex.execute(
        "UPDATE jobs SET state = 'queued', attempts = :attempts, run_at = :run_at,"
        " last_error = :err, locked_by = NULL, locked_until = NULL WHERE id = :id",
        {"id": job_id, "attempts": attempts, "run_at": run_at, "err": error[:1000]},
    )


async def release(ex: Executor, job_id: int, runner: str) -> int:
    """Hand a job this runner holds back to the queue, attempts unchanged (the runner is
    stopping): claimable at once instead of when the lease runs out."""
    return await ex.execute(
        "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL"
        " WHERE id = :id AND state = 'running' AND locked_by = :runner",
        {"id": job_id, "runner": runner},
    )


async def fail(ex: Executor, job_id: int, *, attempts: int, error: str, now: int) -> None:
    await ex.execute(
        "UPDATE jobs SET state = 'dead', attempts = :attempts, last_error = :err,"
        " finished_at = :now, locked_by = NULL, locked_until = NULL WHERE id = :id",
        {"id": job_id, "attempts": attempts, "err": error[:1000], "now": now},
    )


async def get(ex: Executor, job_id: int) -> JobRow | None:
    return await ex.fetch_one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = :id", {"id": job_id})


async def enqueue_unless_pending(
    ex: Executor,
    *,
    job_id: int,
    kind: str,
    payload: str,
    run_at: int,
    now: int,
    other_than: int = 0,
) -> bool:
    """Add a job of `kind` unless one is already queued or running (`other_than`, the job
    asking, aside); False when one was. Atomic on SQLite, whose write transactions are
    serialised across processes; PostgreSQL will need a lock around it."""
    changed = await ex.execute(
        "INSERT INTO jobs (id, kind, payload, host, state, attempts, run_at, created_at)"
        " SELECT :id, :kind, :payload, '', 'queued', 0, :run_at, :now"
        " WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE kind = :kind"
        " AND state IN ('queued', 'running') AND id <> :other)",
        {
            "id": job_id,
            "kind": kind,
            "payload": payload,
            "run_at": run_at,
            "now": now,
            "other": other_than,
        },
    )
    return changed > 0


async def purge_finished(ex: Executor, before: int, limit: int) -> int:
    """Up to `limit` jobs that finished (done, or failed for good) before `before`: they are
    history, and dropping them keeps the table (and the disk) small."""
    return await ex.execute(
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'dead')"
        " AND finished_at < :before LIMIT :limit)",
        {"before": before, "limit": limit},
    )


async def list_by_kind(ex: Executor, kind: str) -> list[JobRow]:
    return await ex.fetch_all(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE kind = :kind ORDER BY id", {"kind": kind}
    )


async def retry_now(ex: Executor, now: int) -> int:
    """Make every waiting job due at once (an admin's "the peer is back" button)."""
    return await ex.execute(
        "UPDATE jobs SET run_at = :now WHERE state = 'queued' AND run_at > :now", {"now": now}
    )


async def counts_by_state(ex: Executor) -> list[JobCountRow]:
    return await ex.fetch_all(
        "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state"
    )


async def set_payload(ex: Executor, job_id: int, payload: str) -> None:
    """A job's progress kept in its payload (the fan-out's cursor), committed with its work."""
    await ex.execute("UPDATE jobs SET payload = :p WHERE id = :id", {"p": payload, "id": job_id})


async def queued_by_host(ex: Executor, kind: str) -> list[QueuedCountRow]:
    """Jobs of `kind` waiting or running, per host (read through the jobs_due index)."""
    return await ex.fetch_all(
        "SELECT host AS key, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')"
        " AND kind = :kind GROUP BY host",
        {"kind": kind},
    )


async def queued_by_kind(ex: Executor) -> list[QueuedCountRow]:
    """Jobs waiting or running, per kind: the queue's depth."""
    return await ex.fetch_all(
        "SELECT kind AS key, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')"
        " GROUP BY kind ORDER BY kind"
    )
