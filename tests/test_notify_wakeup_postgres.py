"""Job wake-ups through a real PostgreSQL: a commit in one process wakes a runner that
listens in another (two pools on one database stand for two machines), also after the
listening connection was cut."""

from __future__ import annotations

from pathlib import Path

from instance.db.postgres import PostgresDatabase
from instance.jobs.notify_wakeup import Notifications, NotifyWakeup
from tests.helpers import postgres


async def opened(url: str) -> PostgresDatabase:
    db = PostgresDatabase(url, pool_size=2)
    await db.open()
    return db


async def test_a_notify_on_one_machine_wakes_the_runner_on_another(tmp_path: Path) -> None:
    url = postgres.database_for(tmp_path)
    here, there = await opened(url), await opened(url)
    try:
        assert isinstance(here, Notifications)
        sender, runner = NotifyWakeup(here), NotifyWakeup(there)
        runner.listen()
        assert await runner.wait(5.0)  # listening: it looks at the queue once at the start
        runner.clear()
        sender.notify()
        assert await runner.wait(10.0)
        # The listening connection is cut (the server restarting): it listens again.
        runner.clear()
        await here.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        assert await runner.wait(15.0)  # woken by listening again, to look at once
        runner.clear()
        sender.notify()
        assert await runner.wait(10.0)
        runner.close()
        sender.close()
    finally:
        await here.close()
        await there.close()
