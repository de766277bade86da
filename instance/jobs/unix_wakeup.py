"""Wake-ups across processes on one machine: each running job runner binds a Unix datagram
socket in `<data dir>/run/wake/`; a process that committed jobs sends one byte to each.

No new service and no extra database traffic: a send is one non-blocking syscall per
runner (a few microseconds), against a commit that waits for the disk. A socket whose
process died refuses the datagram and is removed by the first sender that finds it. A full
receive buffer means that runner has unread wake-ups already, so the datagram is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from pathlib import Path

from instance.jobs.wakeup import LocalWakeup

log = logging.getLogger(__name__)

SUFFIX = ".sock"
# sun_path holds 108 bytes on Linux, the terminating NUL included.
MAX_SOCKET_PATH = 107


def wake_dir(data_dir: Path) -> Path:
    """The folder of the runners' sockets; it holds nothing but sockets of live processes."""
    return data_dir / "run" / "wake"


class UnixSocketWakeup(LocalWakeup):
    """`notify` wakes this process's runner directly and every other runner by datagram."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.path: Path | None = None
        self._listener: socket.socket | None = None
        self._sender: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen(self) -> None:
        if self._listener is not None:
            return
        # Owner-only folders: nobody else on the machine can poke (or list) the runners.
        for folder in (self.folder.parent, self.folder):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{secrets.token_hex(3)}{SUFFIX}"
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            log.warning("job wake-ups from other processes are off: %s is too long a path", path)
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.bind(str(path))
        except OSError as exc:
            sock.close()
            log.warning("job wake-ups from other processes are off: %s: %s", path, exc)
            return
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._drain)
        self._listener, self.path = sock, path

    def _drain(self) -> None:
        assert self._listener is not None
        # Many datagrams may have queued up; one round answers them all.
        with contextlib.suppress(OSError):
            while self._listener.recv(16):
                pass
        self.wake_local()

    def notify(self) -> None:
        self.wake_local()
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return  # no runner has ever listened here
        mine = str(self.path) if self.path else None
        for entry in entries:
            if not entry.name.endswith(SUFFIX) or entry.path == mine:
                continue
            self._send(entry.path)

    def _send(self, path: str) -> None:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        try:
            self._sender.sendto(b"\x01", path)
        except ConnectionRefusedError:
            # Nobody is bound there: its process died without cleaning up.
            with contextlib.suppress(OSError):
                os.unlink(path)
        except (BlockingIOError, FileNotFoundError):
            pass  # a full buffer already holds wake-ups; a vanished socket was just closed
        except OSError as exc:
            log.debug("job wake-up to %s not sent: %s", path, exc)

    def close(self) -> None:
        if self._listener is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None
        if self._sender is not None:
            self._sender.close()
            self._sender = None
