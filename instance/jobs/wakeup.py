"""How a job runner learns that jobs were committed: the `JobWakeup` interface and its
in-process kind.

A runner also polls the queue every second, so a wake-up only makes it look at once: a lost
wake-up costs at most one poll interval, never a job. The storage backend chooses how
wake-ups cross processes (a Unix datagram socket per runner with SQLite,
`unix_wakeup.py`; LISTEN/NOTIFY with PostgreSQL later).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol


class JobWakeup(Protocol):
    def notify(self) -> None:
        """Jobs were committed: wake every runner that can see them, here and in other processes."""

    def wake_local(self) -> None:
        """Wake this process's runner only (a slot was freed, or the runner is stopping)."""

    def clear(self) -> None:
        """Forget wake-ups received so far (a runner calls this before each round)."""

    def is_set(self) -> bool:
        """Whether a wake-up arrived since the last `clear`."""

    async def wait(self, seconds: float) -> bool:
        """Until a wake-up arrives or `seconds` pass; True when woken."""

    def listen(self) -> None:
        """Start receiving other processes' notifications (called when a runner starts)."""

    def close(self) -> None:
        """Stop receiving; safe to call when `listen` never was."""


class LocalWakeup:
    """Wakes the runner of this process only: enough for a single process, and the fallback."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def wake_local(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        return self._event.is_set()

    def listen(self) -> None:
        return None

    def close(self) -> None:
        return None
