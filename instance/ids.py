"""Snowflake-like 64-bit ids: they sort by creation time and are unique across processes.

Layout: 41 bits of milliseconds since 2024-01-01, 10 bits of node, 12 bits of sequence.
Each process claims its node number from the database when it opens it, so two
processes sharing one database never mint the same id.
"""

from __future__ import annotations

import threading
import time

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NODE_BITS = 10
SEQ_BITS = 12
MAX_SEQ = (1 << SEQ_BITS) - 1


class IdGenerator:
    """Mints ids for one process; thread-safe."""

    def __init__(self, node: int = 0) -> None:
        self.node = node % (1 << NODE_BITS)
        self._lock = threading.Lock()
        self._last_ms = 0
        self._seq = 0

    def next_id(self) -> int:
        with self._lock:
            now = int(time.time() * 1000)
            if now < self._last_ms:  # the clock stepped back: keep ids increasing
                now = self._last_ms
            if now == self._last_ms:
                self._seq = (self._seq + 1) & MAX_SEQ
                if self._seq == 0:
                    while now <= self._last_ms:
                        now = int(time.time() * 1000)
            else:
                self._seq = 0
            self._last_ms = now
            return (
                ((now - EPOCH_MS) << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | self._seq
            )


def now() -> int:
    """Current UTC time as epoch seconds, the one timestamp format in storage."""
    return int(time.time())
