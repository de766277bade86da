"""Wake-ups across processes: runners' Unix datagram sockets in `<data dir>/run/wake/`.

Runners here poll once an hour, so only a wake-up can make them start a job within the
test's bound: each test fails if the datagram does not arrive.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from quart import Quart

from instance.db.connection import Row
from instance.jobs.queue import JobQueue
from instance.jobs.runner import JobRunner
from instance.jobs.unix_wakeup import UnixSocketWakeup, wake_dir
from tests.helpers.processes import gapo_env
from tests.helpers.social import gapo

AN_HOUR = 3600.0

# Another process enqueues one job on the same database file and exits.
ENQUEUER = """
import asyncio, sys
from pathlib import Path
from instance.db.sqlite import SqliteDatabase
from instance.ids import IdGenerator
from instance.jobs.queue import JobQueue
from instance.jobs.unix_wakeup import UnixSocketWakeup, wake_dir

async def main(db_path: str, data_dir: str) -> None:
    db = SqliteDatabase(Path(db_path))
    await db.open()
    queue = JobQueue(IdGenerator(77), UnixSocketWakeup(wake_dir(Path(data_dir))))
    async with db.transaction() as tx:
        await queue.enqueue(tx, "probe", {"from": "another process"})
    queue.wakeup.close()
    await db.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_notify_wakes_a_runner_listening_elsewhere(tmp_path: Path) -> None:
    folder = wake_dir(tmp_path)
    runner_side, other_side = UnixSocketWakeup(folder), UnixSocketWakeup(folder)
    runner_side.listen()
    try:
        assert runner_side.path is not None and runner_side.path.exists()
        assert not runner_side.is_set()
        other_side.notify()
        assert await runner_side.wait(10)
    finally:
        runner_side.close()
        other_side.close()
    assert not any(folder.iterdir()), "close() removes the runner's socket"


async def test_a_socket_left_by_a_dead_process_is_removed(tmp_path: Path) -> None:
    folder = wake_dir(tmp_path)
    folder.mkdir(parents=True)
    dead = folder / "999999-dead00.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    leftover.bind(str(dead))
    leftover.close()  # the file stays, as after kill -9
    live, sender = UnixSocketWakeup(folder), UnixSocketWakeup(folder)
    live.listen()
    try:
        sender.notify()
        assert not dead.exists()
        assert await live.wait(10), "a dead socket does not stop the others being woken"
    finally:
        live.close()
        sender.close()


async def test_a_job_enqueued_by_another_process_starts_without_a_poll(app: Quart) -> None:
    """`gapo serve --no-jobs` enqueues, a runner elsewhere starts the job at once."""
    started: asyncio.Queue[Row] = asyncio.Queue()

    async def probe(payload: dict[str, Any], job: Row) -> None:
        started.put_nowait(job)

    services = gapo(app)
    data_dir = services.settings.data_dir
    queue = JobQueue(services.ids, UnixSocketWakeup(wake_dir(data_dir)))
    runner = JobRunner(services.db, queue, {"probe": probe}, poll_interval=AN_HOUR)
    runner.start()
    try:
        await asyncio.sleep(0.2)  # the first round finds nothing and waits for the hour
        child = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", ENQUEUER, str(services.settings.sqlite_path), str(data_dir)],
            env=gapo_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        job = await asyncio.wait_for(started.get(), 10)
        assert job["kind"] == "probe" and "another process" in job["payload"]
    finally:
        await runner.stop()
