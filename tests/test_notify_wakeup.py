"""Job wake-ups through the database's notifications (LISTEN/NOTIFY on PostgreSQL).

Here against an in-memory broker with the backend's two calls; the same wake-up on a real
PostgreSQL is tested with the backend (tests of the PostgreSQL backend)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from instance.jobs.notify_wakeup import NotifyWakeup


class Broker:
    """One database: every listener of a channel hears every notification on it."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[Callable[[], None]]] = {}
        self.sent = 0
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def notify(self, channel: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("the database is restarting")
        self.sent += 1
        for callback in self.listeners.get(channel, []):
            callback()

    async def listen(
        self, channel: str, on_notify: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        if self.fail:
            raise ConnectionError("the database is restarting")
        self.listeners.setdefault(channel, []).append(on_notify)

        async def stop() -> None:
            self.listeners[channel].remove(on_notify)

        return stop


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_commit_in_one_process_wakes_the_runner_of_another() -> None:
    broker = Broker()
    here, there = NotifyWakeup(broker), NotifyWakeup(broker)
    there.listen()
    await settle()
    there.clear()
    here.notify()
    assert here.is_set()  # this process's runner at once
    assert await there.wait(1.0)
    there.close()
    await settle()
    assert broker.listeners["gapo_jobs"] == []


async def test_a_burst_of_commits_sends_few_notifications() -> None:
    broker = Broker()
    broker.gate = asyncio.Event()
    wakeup = NotifyWakeup(broker)
    wakeup.notify()
    await settle()  # its NOTIFY is on the way (held at the gate)
    for _ in range(99):
        wakeup.notify()
    broker.gate.set()
    await settle()
    # The one in flight, then one more for everything asked meanwhile.
    assert broker.sent == 2


async def test_a_database_that_cannot_be_reached_costs_only_the_wake_up() -> None:
    broker = Broker()
    broker.fail = True
    wakeup = NotifyWakeup(broker)
    wakeup.listen()
    wakeup.notify()  # neither raises: the runner's poll still finds the jobs
    await settle()
    assert wakeup.is_set()
    assert broker.sent == 0
    wakeup.close()
