"""Job routing (`gapo worker --kinds`): a runner takes only the kinds it is given, a group
name such as `media` stands for its kinds, and a wrong name is refused with the list."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from quart import Quart

from instance.db import jobs as jobs_q
from instance.db.sqlite import SqliteDatabase
from instance.ids import IdGenerator, now
from instance.jobs.routing import UnknownJobKind, resolve
from tests.helpers.processes import gapo, gapo_env
from tests.helpers.social import gapo as services

KNOWN = {"deliver", "fanout", "inbox", "media_transcode", "media_purge", "media_unattached"}


def test_names_select_kinds_and_groups() -> None:
    """A kind selects itself; `media` selects every media_* kind; spaces are ignored."""
    assert resolve(["deliver", " fanout"], KNOWN) == {"deliver", "fanout"}
    assert resolve(["media"], KNOWN) == {"media_transcode", "media_purge", "media_unattached"}
    assert resolve(["media", "media_purge"], KNOWN) == resolve(["media"], KNOWN)


@pytest.mark.parametrize("names", [["delivr"], ["deliver", "video"], [""]])
def test_an_unknown_name_is_refused_with_the_known_ones(names: list[str]) -> None:
    with pytest.raises(UnknownJobKind) as refused:
        resolve(names, KNOWN)
    message = str(refused.value)
    assert "the kinds are: deliver, fanout, inbox, media_purge" in message
    assert "groups: media = media_purge, media_transcode, media_unattached" in message


async def enqueue(db: SqliteDatabase, ids: IdGenerator, kind: str, host: str = "") -> int:
    job_id = ids.next_id()
    await jobs_q.enqueue(
        db, job_id=job_id, kind=kind, payload='{"keys":[]}', host=host, run_at=now(), now=now()
    )
    return job_id


def job_state(path: Path, job_id: int) -> dict[str, object]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute(
            "SELECT state, attempts, locked_by, last_error FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return dict(row)
    finally:
        conn.close()


UNTOUCHED = {"state": "queued", "attempts": 0, "locked_by": None, "last_error": None}


async def test_a_routed_runner_leaves_other_kinds_alone(app: Quart) -> None:
    """Routed to `media`, the runner ends the media job and never claims the delivery (its
    lane is not driven); routed to `deliver`, it takes the delivery."""
    gapo = services(app)
    runner = gapo.runner
    deliver = await enqueue(gapo.db, gapo.ids, "deliver", "127.0.0.1:9")
    purge = await enqueue(gapo.db, gapo.ids, "media_purge")
    assert runner.route(["media"]) == {"media_transcode", "media_purge", "media_unattached"}
    await runner.run_until_idle(limit_seconds=20)
    path = gapo.settings.data_dir / "gapo.sqlite3"
    assert job_state(path, purge)["state"] == "done"
    assert job_state(path, deliver) == UNTOUCHED
    with pytest.raises(UnknownJobKind, match="the kinds are: account_delete, deliver"):
        runner.route(["transcode"])


async def test_gapo_worker_with_kinds_media_leaves_deliver_jobs_alone(tmp_path: Path) -> None:
    """A real `gapo worker --kinds media` on a real SQLite file runs the media job and leaves
    the delivery queued as it was, for a worker of its own."""
    data = tmp_path / "data"
    assert gapo(data, "migrate").returncode == 0
    path = data / "gapo.sqlite3"
    db = SqliteDatabase(path)
    await db.open()
    try:
        ids = IdGenerator(1)
        deliver = await enqueue(db, ids, "deliver", "127.0.0.1:9")
        purge = await enqueue(db, ids, "media_purge")
    finally:
        await db.close()
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "instance", "worker", "--kinds", "media"],
            env=gapo_env(data, GAPO_JOB_POLL_SECONDS="1"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while job_state(path, purge)["state"] != "done":
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # a few more polls: still nothing for the delivery
        assert job_state(path, deliver) == UNTOUCHED
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0, log.read_text()
    assert "running jobs of kinds media_purge, media_transcode, media_unattached" in (
        log.read_text()
    )


def test_gapo_worker_refuses_an_unknown_kind(tmp_path: Path) -> None:
    """`gapo worker --kinds video` exits 2 at once, naming the kinds there are."""
    data = tmp_path / "data"
    assert gapo(data, "migrate").returncode == 0
    result = gapo(data, "worker", "--kinds", "deliver,video")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown job kind 'video'" in result.stderr
    assert "deliver" in result.stderr and "media = media_purge" in result.stderr
    empty = gapo(data, "worker", "--kinds", ",")
    assert empty.returncode == 2 and "names no job kind" in empty.stderr
