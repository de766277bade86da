"""What `gapo serve` sets so that many slow or idle connections cannot starve the process.

- Hypercorn's limits on connections (`tune`): how long the request headers may take, how large
  they may grow, how many connections the kernel may queue while the process is busy. The body
  has its own deadline in instance/web/body_guard.py.
- The open-file limit (`raise_open_file_limit`): every connection is a file descriptor, and
  the common soft limit of 1,024 is far below the hard limit most systems allow.
- When descriptors run out anyway, asyncio (before the fix of CPython gh-151615) goes on
  calling accept() after it failed with EMFILE, up to `backlog` times per wake-up of the
  listening socket, logging a traceback and scheduling a retry each time; the retries wake it
  again, so the failures multiply (57,000 in 10 s in tests/test_slow_bodies.py's setting, the
  CPU busy with them and new visitors unanswered; 135 MB of log in 80 s in the report).
  `install_accept_backoff` makes each wake-up stop at the first such failure and retry once a
  second, as the fixed asyncio does; `FdExhaustionFilter` logs one line per interval, with a
  count, instead of a traceback per failure.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from hypercorn.config import Config

log = logging.getLogger(__name__)

# Hypercorn's keep-alive timer runs from the moment a connection is accepted until its
# request headers are complete, and again between requests: a client that trickles its
# headers, or opens a connection and says nothing, is dropped after this many seconds.
HEADER_AND_IDLE_TIMEOUT = 5
# Request line and headers together; larger ones are refused (h11 answers 431/400).
MAX_HEADER_BYTES = 16 * 1024
# Connections the kernel may hold before the process accepts them. While descriptors are
# exhausted, new visitors wait here rather than being refused. (Capped by the kernel's
# net.core.somaxconn, 4,096 on current Linux.)
BACKLOG = 1024
# Not set: Hypercorn's read_timeout also runs while a response is being sent, so it would cut
# a slow download of a large video mid-way. Idle and slow requests are bounded above instead.

EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
REPORT_INTERVAL = 10.0


def tune(config: Config) -> None:
    """Sets Hypercorn's connection limits (see the constants above)."""
    config.keep_alive_timeout = HEADER_AND_IDLE_TIMEOUT
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    config.backlog = BACKLOG


def raise_open_file_limit() -> tuple[int, int]:
    """Raises the soft RLIMIT_NOFILE to the hard limit; returns the limits before and after.

    Worker processes inherit it. An unlimited hard limit is not accepted as a soft one by
    Linux, which caps it at fs.nr_open; then the soft limit is left as it was.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, hard, exc)
            return soft, soft
        log.info("open-file limit raised from %d to %d", soft, hard)
        return soft, hard
    return soft, soft


class _AcceptPass:
    """The listening socket as one pass of asyncio's accept loop sees it: once an accept() has
    failed for lack of resources, the rest of the pass finds the queue empty and stops."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exhausted = False

    def accept(self) -> tuple[socket.socket, Any]:
        if self.exhausted:
            raise BlockingIOError(errno.EAGAIN, "backing off after running out of resources")
        try:
            return self.sock.accept()
        except OSError as exc:
            self.exhausted = exc.errno in EXHAUSTION_ERRNOS
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class AcceptBackoffLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop with one failed accept() per wake-up while resources are short.

    This overrides two private methods of the standard library (by wrapping, not rewriting,
    them): the only place where the accept loop can be stopped. Each pass gets a fresh
    `_AcceptPass`; the retry asyncio schedules after a failure hands the wrapper back, so it is
    unwrapped first.
    """

    def _accept_connection(self, protocol_factory: Any, sock: Any, *args: Any, **kw: Any) -> None:
        real = sock.sock if isinstance(sock, _AcceptPass) else sock
        super()._accept_connection(  # type: ignore[misc]
            protocol_factory, _AcceptPass(real), *args, **kw
        )

    def _start_serving(self, protocol_factory: Any, sock: Any, *args: Any, **kw: Any) -> None:
        if sock.fileno() == -1:
            return  # a retry scheduled before the server closed: nothing to listen on
        super()._start_serving(protocol_factory, sock, *args, **kw)  # type: ignore[misc]


class _AcceptBackoffPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return AcceptBackoffLoop()


def install_accept_backoff() -> None:
    """Makes new event loops of this process AcceptBackoffLoops (Hypercorn creates its own).

    Event-loop policies are deprecated from Python 3.14; by then asyncio has the fix itself.
    """
    if sys.version_info < (3, 14) and sys.platform != "win32":
        asyncio.set_event_loop_policy(_AcceptBackoffPolicy())


def _is_exhaustion(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, OSError) and error.errno in EXHAUSTION_ERRNOS


class FdExhaustionFilter(logging.Filter):
    """Lets one record of running out of descriptors through per interval, as a one-line count.

    The count covers every such record since the previous line, this one included; a storm's
    last few are counted in the next line, whenever one comes.
    """

    def __init__(
        self, interval: float = REPORT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_exhaustion(record):
            return True
        assert record.exc_info is not None  # by _is_exhaustion
        with self._lock:
            self._count += 1
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                return False
            count, self._count, self._last = self._count, 0, now
        error = record.exc_info[1]
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        record.msg = (
            "out of resources (%s): %d failure(s) to accept or open since the last such line, "
            "at most one line every %g s; new connections wait. Raise the open-file limit "
            "(ulimit -n / LimitNOFILE) or see docs/overload.md"
        )
        record.args = (reason, count, self.interval)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_fd_exhaustion_filter(logger: logging.Logger | None = None) -> None:
    """Puts one FdExhaustionFilter on each handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, FdExhaustionFilter) for f in handler.filters):
            handler.addFilter(FdExhaustionFilter())
