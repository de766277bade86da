"""The job runner is woken when an enqueued job becomes visible: after its transaction commits,
in this process directly and in other processes through their wake-up sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from quart import Quart

from instance.jobs.unix_wakeup import wake_dir
from tests.helpers.social import gapo


def bound_listener(folder: Path) -> socket.socket:
    """A datagram socket where a runner of another process would bind its own."""
    folder.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(folder / "4242-test.sock"))
    sock.setblocking(False)
    return sock


def received(sock: socket.socket) -> int:
    count = 0
    try:
        while sock.recv(16):
            count += 1
    except BlockingIOError:
        pass
    return count


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


async def test_a_fan_out_transaction_notifies_once(app: Quart) -> None:
    """However many jobs one transaction adds, runners elsewhere get one datagram."""
    listener = bound_listener(wake_dir(gapo(app).settings.data_dir))
    try:
        async with gapo(app).db.transaction() as tx:
            for n in range(50):
                await gapo(app).queue.enqueue(tx, "deliver", {"n": n}, host="example.org")
        assert received(listener) == 1
    finally:
        listener.close()


async def test_retry_now_wakes_runners(app: Quart) -> None:
    """The admin's "the peer is back" makes waiting jobs due and tells the runners so."""
    queue = gapo(app).queue
    await queue.enqueue(gapo(app).db, "deliver", {"n": 3}, host="example.org", delay=3600)
    queue.wakeup.clear()
    assert await gapo(app).federation_admin.retry_now() == 1
    assert queue.wakeup.is_set()
