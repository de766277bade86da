"""`gapo serve --no-jobs` and `gapo worker` as two real processes on one data dir: the web
process only enqueues, the worker runs every job, and it is woken by the web process.

The worker polls the queue once an hour here (GAPO_JOB_POLL_SECONDS), so within the bounds
of `eventually` only a wake-up from the web process can make it start a job: the test
fails if the wake-up path does not work, whatever the machine's speed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from instance.jobs.unix_wakeup import wake_dir
from tests.helpers.instances import GapoInstance, eventually, signed_in

AN_HOUR = "3600"


def follow_state(instance: GapoInstance, follower: str, followee: str) -> str | None:
    rows = instance.query(
        "SELECT f.state FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " JOIN accounts b ON b.id = f.followee_id WHERE a.username = ? AND b.username = ?",
        (follower, followee),
    )
    return rows[0]["state"] if rows else None


def sockets(instance: GapoInstance) -> list[Path]:
    folder = wake_dir(instance.data_dir)
    return sorted(folder.iterdir()) if folder.is_dir() else []


class Worker:
    """A running `gapo worker` for `instance`; its output goes to a log file."""

    def __init__(self, instance: GapoInstance) -> None:
        self.log_path = instance.data_dir.parent / f"{instance.name}-worker.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "instance", "worker"],
                env=instance.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_running(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gapo worker exited: {self.output()}"
            if "is running jobs" in self.output():
                return
            time.sleep(0.1)
        raise AssertionError(f"gapo worker did not start: {self.output()}")

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def web_and_peer(tmp_path: Path) -> Iterator[tuple[GapoInstance, GapoInstance]]:
    """`one` serves without jobs and polls hourly; `two` is an ordinary instance (the peer)."""
    one = GapoInstance(
        "one",
        tmp_path,
        serve_args=("--no-jobs",),
        extra_env={"GAPO_JOB_POLL_SECONDS": AN_HOUR},
    ).start()
    two = GapoInstance("two", tmp_path).start()
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


async def test_worker_runs_the_jobs_of_a_serve_no_jobs_process(
    web_and_peer: tuple[GapoInstance, GapoInstance],
) -> None:
    one, two = web_and_peer
    worker: Worker | None = None
    async with signed_in((one, "alice"), (two, "bob")) as (alice, bob):
        try:
            # bob follows alice: `one` (web only) stores the Follow and queues it, runs nothing
            assert sockets(one) == [], "serve --no-jobs runs no job runner"
            await bob.follow(one.handle("alice"))
            await eventually(
                lambda: one.query("SELECT id FROM inbox_activities WHERE ap_type = 'Follow'")
            )
            [inbox_job] = one.query("SELECT state FROM jobs WHERE kind = 'inbox'")
            assert inbox_job["state"] == "queued"
            assert follow_state(one, "bob", "alice") is None

            # The worker starts, applies the Follow and delivers the Accept
            worker = Worker(one)
            worker.wait_until_running()
            await eventually(lambda: follow_state(two, "bob", "alice") == "accepted", timeout=30)
            assert len(sockets(one)) == 1, "the worker listens for wake-ups"

            # alice posts on the web process: the worker, polling hourly, is woken and delivers
            post_id = await alice.post("Hello from the web process, sent by the worker")
            note_id = f"{one.actor('alice')}/statuses/{post_id}"

            def arrived() -> bool:
                return bool(two.query("SELECT id FROM posts WHERE ap_id = ?", (note_id,)))

            await eventually(arrived, timeout=30)

            def all_done() -> bool:
                delivered = one.query("SELECT state FROM jobs WHERE kind = 'deliver' ORDER BY id")
                return bool(delivered) and all(row["state"] == "done" for row in delivered)

            # A delivery's outcome is written with its batch, up to 50 ms after the POST landed.
            await eventually(all_done, timeout=10)
        finally:
            if worker is not None:
                assert worker.stop() == 0, worker.output()
    assert "Gapo worker" in worker.output() and "stopped." in worker.output()
    assert sockets(one) == [], "a stopped worker removes its socket"
