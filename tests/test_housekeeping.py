"""Housekeeping: expired sessions, finished jobs, old inbox records and old tombstones of
deleted posts are deleted on a
schedule, in batches, by one recurring job for the whole instance (real SQLite files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from instance.config import ConfigError, load_settings
from instance.db import posts as posts_q
from instance.ids import first_id_at, now
from instance.jobs.housekeeping import DAY, HOUSEKEEPING, HOUSEKEEPING_INTERVAL, Housekeeping
from tests.helpers.instances import eventually
from tests.helpers.social import gapo
from tests.helpers.web import AppFactory, count_rows, signup


async def add_job(app: Quart, state: str, finished_days_ago: float | None) -> int:
    services = gapo(app)
    job_id = int(await services.queue.enqueue(services.db, "deliver", {}, host="example.org"))
    finished = None if finished_days_ago is None else int(now() - finished_days_ago * DAY)
    await services.db.execute(
        "UPDATE jobs SET state = :s, finished_at = :f WHERE id = :id",
        {"s": state, "f": finished, "id": job_id},
    )
    return job_id


async def add_inbox_record(app: Quart, n: int, days_ago: float) -> None:
    received = int(now() - days_ago * DAY)
    await gapo(app).db.execute(
        "INSERT INTO inbox_activities (id, ap_id, ap_type, actor_ap_id, body, received_at)"
        " VALUES (:id, :ap, 'Like', 'https://remote.example/u', '{}', :at)",
        {"id": first_id_at(received) + n, "ap": f"https://remote.example/like/{n}", "at": received},
    )


async def ids_of(app: Quart, table: str) -> set[int]:
    return {r["id"] for r in await gapo(app).db.fetch_all(f"SELECT id FROM {table}")}


async def test_purge_keeps_what_is_young_or_unfinished(app: Quart, client: Any) -> None:
    """Old done and dead jobs go, recent or unfinished ones stay; inbox records older than
    the retention go; expired sessions go, live ones stay. Batches smaller than the work."""
    services = gapo(app)
    await signup(client, "hana")  # one live session
    await services.db.execute(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at)"
        " SELECT 1000 + n.v, 'old' || n.v, u.id, 0, 0, 1 FROM users u,"
        " (SELECT 1 AS v UNION SELECT 2 UNION SELECT 3) n"
    )
    old_done = {await add_job(app, "done", 8) for _ in range(5)}
    old_dead = await add_job(app, "dead", 10)
    keep = {
        await add_job(app, "done", 1),
        await add_job(app, "dead", 6),
        await add_job(app, "queued", None),
        await add_job(app, "running", None),
    }
    for n in range(5):
        await add_inbox_record(app, n, days_ago=31 + n)
    for n in range(5, 7):
        await add_inbox_record(app, n, days_ago=29)

    housekeeping = Housekeeping(services.db, retain_jobs_days=7, retain_inbox_days=30, batch=2)
    purged = await housekeeping.purge()

    assert (purged.sessions, purged.jobs, purged.inbox) == (3, len(old_done) + 1, 5)
    assert await ids_of(app, "jobs") == keep and old_dead not in keep
    assert await count_rows(app, "sessions") == 1
    assert await count_rows(app, "inbox_activities") == 2
    assert (await housekeeping.purge()).jobs == 0  # nothing left to do


async def test_one_run_is_scheduled_whatever_the_number_of_runners(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Two processes' runners on one database schedule one housekeeping job; running it
    queues exactly one successor, an interval later."""
    one = await make_app(data_dir=tmp_path / "shared")
    two = await make_app(data_dir=tmp_path / "shared")
    for app in (one, two, one):
        await gapo(app).runner.schedule_recurring()
    rows = await gapo(one).db.fetch_all(
        "SELECT id, state FROM jobs WHERE kind = :k", {"k": HOUSEKEEPING}
    )
    assert [r["state"] for r in rows] == ["queued"]

    await gapo(two).runner.run_until_idle()
    rows = await gapo(one).db.fetch_all(
        "SELECT id, state, run_at FROM jobs WHERE kind = :k ORDER BY id", {"k": HOUSEKEEPING}
    )
    assert [r["state"] for r in rows] == ["done", "queued"]
    assert rows[1]["run_at"] >= now() + HOUSEKEEPING_INTERVAL - 5
    # A runner starting now finds the successor and adds none.
    await gapo(one).runner.schedule_recurring()
    assert (
        await gapo(one).db.fetch_value(
            "SELECT COUNT(*) FROM jobs WHERE kind = :k AND state = 'queued'", {"k": HOUSEKEEPING}
        )
        == 1
    )


async def test_a_failed_run_is_recorded_and_the_next_still_scheduled(app: Quart) -> None:
    services = gapo(app)

    async def broken(payload: dict[str, Any], job: dict[str, Any]) -> None:
        raise RuntimeError("disk on fire")

    services.runner.handlers[HOUSEKEEPING] = broken
    await services.runner.schedule_recurring()
    await services.runner.run_until_idle()
    rows = await services.db.fetch_all(
        "SELECT state, last_error FROM jobs WHERE kind = :k ORDER BY id", {"k": HOUSEKEEPING}
    )
    assert [r["state"] for r in rows] == ["dead", "queued"]
    assert "disk on fire" in rows[0]["last_error"]


async def test_a_running_app_purges_expired_sessions_without_a_login(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """With jobs on, the runner's housekeeping deletes an expired session nobody touches."""
    app = await make_app(data_dir=tmp_path / "setup")
    await signup(app.test_client(), "uyen")
    await gapo(app).db.execute("UPDATE sessions SET expires_at = 1")
    running = await make_app(data_dir=tmp_path / "setup", run_jobs=True)

    async def sessions_left() -> bool:
        return await count_rows(running, "sessions") == 0

    await eventually(sessions_left, timeout=20)


def test_retention_settings() -> None:
    settings = load_settings(environ={"GAPO_RETAIN_JOBS_DAYS": "3", "GAPO_RETAIN_INBOX_DAYS": "9"})
    assert (settings.retain_jobs_days, settings.retain_inbox_days) == (3, 9)
    defaults = load_settings(environ={})
    assert (defaults.retain_jobs_days, defaults.retain_inbox_days) == (7, 30)
    with pytest.raises(ConfigError, match="GAPO_RETAIN_INBOX_DAYS must be at least 4"):
        load_settings(environ={"GAPO_RETAIN_INBOX_DAYS": "2"})
    with pytest.raises(ConfigError, match="GAPO_RETAIN_JOBS_DAYS"):
        load_settings(environ={"GAPO_RETAIN_JOBS_DAYS": "0"})


async def add_post(app: Quart, post_id: int, *, deleted_days_ago: float | None) -> None:
    deleted = None if deleted_days_ago is None else int(now() - deleted_days_ago * DAY)
    await gapo(app).db.execute(
        "INSERT INTO posts (id, account_id, local, ap_id, visibility, created_at, deleted_at)"
        " SELECT :id, account_id, 1, 'https://example.test/p/' || :id, 'public', 0, :d"
        " FROM users LIMIT 1",
        {"id": post_id, "d": deleted},
    )


async def test_tombstones_older_than_the_retention_go(app: Quart, client: Any) -> None:
    """Posts deleted longer ago than GAPO_RETAIN_TOMBSTONES_DAYS go for good (their
    addressees by cascade; a reply keeps its text and loses the link); younger tombstones
    and live posts stay."""
    services = gapo(app)
    await signup(client, "mai")
    for post_id, days in ((1, 31), (2, 45), (3, 29), (4, None), (5, None)):
        await add_post(app, post_id, deleted_days_ago=days)
    await services.db.execute("UPDATE posts SET in_reply_to_id = 1 WHERE id = 5")
    await services.db.execute(
        "INSERT INTO post_recipients (post_id, account_id) SELECT 2, account_id FROM users"
    )

    housekeeping = Housekeeping(
        services.db, retain_jobs_days=7, retain_inbox_days=30, retain_tombstones_days=30, batch=1
    )
    purged = await housekeeping.purge()

    assert purged.tombstones == 2
    assert await ids_of(app, "posts") == {3, 4, 5}
    assert await count_rows(app, "post_recipients") == 0
    assert await services.db.fetch_value("SELECT in_reply_to_id FROM posts WHERE id = 5") is None


async def test_a_deleted_post_keeps_no_earlier_versions(app: Quart, client: Any) -> None:
    """Deleting a post removes the text of its earlier versions with its own."""
    services = gapo(app)
    await signup(client, "tuan")
    await add_post(app, 7, deleted_days_ago=None)
    await services.db.execute(
        "INSERT INTO post_edits (id, post_id, content_html, created_at) VALUES (8, 7, 'old', 0)"
    )
    await posts_q.mark_deleted(services.db, 7, now())
    assert await count_rows(app, "post_edits") == 0


def test_tombstone_retention_setting() -> None:
    """GAPO_RETAIN_TOMBSTONES_DAYS defaults to 30 and refuses less than 4 days."""
    assert load_settings(environ={}).retain_tombstones_days == 30
    assert load_settings(environ={"GAPO_RETAIN_TOMBSTONES_DAYS": "9"}).retain_tombstones_days == 9
    with pytest.raises(ConfigError, match="GAPO_RETAIN_TOMBSTONES_DAYS must be at least 4"):
        load_settings(environ={"GAPO_RETAIN_TOMBSTONES_DAYS": "3"})
