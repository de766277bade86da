"""Wake-ups across machines through the database: PostgreSQL's LISTEN/NOTIFY.

With SQLite every runner is on one machine, and a datagram per runner (`unix_wakeup.py`)
reaches them all. With PostgreSQL, workers run on any machine that reaches the database,
so the database carries the wake-up: a process that committed jobs sends one `NOTIFY` on
the channel, and every listening runner (this process's too) is woken. No polling: an idle
worker waits on its listening connection and the one-second poll stays only as the bound
on a lost wake-up.

Sends are coalesced: while one NOTIFY is on its way, further `notify` calls only mark that
another is wanted, so a burst of commits costs at most two round trips at a time, not one
each; a runner woken once reads everything due anyway. A failed send (the database
restarting) is logged at debug and forgotten: the poll finds the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from instance.jobs.wakeup import LocalWakeup

log = logging.getLogger(__name__)

CHANNEL = "gapo_jobs"


@runtime_checkable
class Notifications(Protocol):
    """What the database backend offers for this (`PostgresDatabase`)."""

    async def notify(self, channel: str) -> None:
        """Send one notification on `channel`, committed at once."""

    async def listen(
        self, channel: str, on_notify: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        """Call `on_notify` for every notification on `channel`; returns how to stop."""


class NotifyWakeup(LocalWakeup):
    """`notify` wakes this process's runner at once and every runner by NOTIFY."""

    def __init__(self, notifications: Notifications, channel: str = CHANNEL) -> None:
        super().__init__()
        self.notifications = notifications
        self.channel = channel
        self._sending: asyncio.Task[None] | None = None
        self._again = False
        self._listening: asyncio.Task[None] | None = None
        self._stop: Callable[[], Awaitable[None]] | None = None
        self._closing: asyncio.Task[None] | None = None  # held, so that it runs to its end

    def notify(self) -> None:
        self.wake_local()
        if self._sending is not None and not self._sending.done():
            self._again = True
            return
        # Without a loop (a command finishing) nothing is sent: the poll bounds the delay.
        with contextlib.suppress(RuntimeError):
            self._sending = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while True:
            self._again = False
            try:
                await self.notifications.notify(self.channel)
            except Exception as exc:  # the database restarting, say: the poll finds the jobs
                log.debug("job wake-up not sent: %s", exc)
            if not self._again:
                return

    def listen(self) -> None:
        if self._listening is None:
            self._listening = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        try:
            self._stop = await self.notifications.listen(self.channel, self.wake_local)
        except Exception as exc:
            log.warning("job wake-ups from other processes are off: %s", exc)

    def close(self) -> None:
        for task in (self._listening, self._sending):
            if task is not None and not task.done():
                task.cancel()
        stop, self._stop, self._listening = self._stop, None, None
        if stop is not None:
            with contextlib.suppress(RuntimeError):
                self._closing = asyncio.get_running_loop().create_task(_stopped(stop))


async def _stopped(stop: Callable[[], Awaitable[None]]) -> None:
    with contextlib.suppress(Exception):
        await stop()
