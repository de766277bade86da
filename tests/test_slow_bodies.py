"""Slow request bodies against a real `gapo serve`: cut after the deadline, bounded in number,
and a process out of file descriptors keeps answering new visitors and logs a few lines.

The clients are raw loopback sockets that send their headers at once and their body a byte at
a time. Limits are lowered through the settings (and RLIMIT_NOFILE in the server's process) so
that each case takes seconds; the socket timeouts only bound how long a failure takes.
"""

from __future__ import annotations

import resource
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from tests.helpers.processes import Server, running_server

# Long enough for a cut that should come after 1–2 s on a busy machine; well under Quart's
# own 60 s body timeout, which is what answered before the deadline existed.
WAIT = 30.0


def _port(server: Server) -> int:
    return int(urlsplit(server.base_url).port or 0)


def _open_post(port: int, length: int, first: bytes = b"{", path: str = "/inbox") -> socket.socket:
    """A POST whose headers announce `length` bytes of body, of which only `first` is sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/activity+json\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def _read_until_closed(sock: socket.socket, timeout: float = WAIT) -> bytes:
    """Everything the server sends until it closes the connection (fails on the timeout)."""
    sock.settimeout(timeout)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


def _health(server: Server) -> int:
    with urllib.request.urlopen(f"{server.base_url}/health", timeout=WAIT) as reply:
        return int(reply.status)


@contextmanager
def _trickling(socks: list[socket.socket], every: float = 0.3) -> Iterator[None]:
    """Keeps each socket's body alive with one byte per `every` s, as a slow attacker does."""
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(every):
            for sock in socks:
                with suppress(OSError):  # cut by the server, as it should be
                    sock.send(b" ")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_a_slow_body_is_cut_with_408_and_a_steady_one_is_not(tmp_path: Path) -> None:
    with running_server(
        tmp_path / "data", GAPO_BODY_TIMEOUT="1", GAPO_BODY_MIN_RATE="1000"
    ) as server:
        port = _port(server)
        slow = _open_post(port, 4096)
        with _trickling([slow]):
            reply = _read_until_closed(slow)
        slow.close()
        assert _status(reply) == 408, reply[:200]
        assert b"connection: close" in reply.lower()

        # 3,000 bytes at about 2,500 bytes/s take longer than the 1 s grace, but they keep
        # ahead of the minimum rate (1,000 bytes/s), so the body is read and the inbox answers.
        steady = _open_post(port, 3000, first=b"")
        for _ in range(12):
            steady.sendall(b" " * 250)
            time.sleep(0.1)
        steady.settimeout(WAIT)
        answer = steady.recv(65536)
        steady.close()
        assert _status(answer) not in (0, 408, 503), answer[:200]
        assert _status(answer) < 500


def test_bodies_beyond_the_cap_are_refused_at_once_with_retry_after(tmp_path: Path) -> None:
    with running_server(
        tmp_path / "data", GAPO_MAX_BODY_READS="4", GAPO_BODY_TIMEOUT="60"
    ) as server:
        port = _port(server)
        held = [_open_post(port, 4096) for _ in range(4)]
        try:
            # The four may reach the server after a probe: ask until one is refused.
            refused = b""
            for _ in range(100):
                probe = _open_post(port, 2, first=b"{}")
                reply = _read_until_closed(probe)
                probe.close()
                if _status(reply) == 503:
                    refused = reply
                    break
                time.sleep(0.05)
            assert _status(refused) == 503, "a fifth incomplete body was not refused"
            assert b"retry-after:" in refused.lower()
            assert _health(server) == 200  # requests without a body are not counted
        finally:
            for sock in held:
                sock.close()
        # The closed connections give their places back.
        for _ in range(100):
            probe = _open_post(port, 2, first=b"{}")
            reply = _read_until_closed(probe)
            probe.close()
            if _status(reply) != 503:
                break
            time.sleep(0.05)
        assert _status(reply) not in (0, 503), reply[:200]


def _limit_open_files(limit: int) -> Callable[[], None]:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return lower


def _open_file_limit(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-file limit in /proc")


def test_serve_raises_the_soft_open_file_limit_to_the_hard_one(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = min(hard, 4096) if hard != resource.RLIM_INFINITY else 4096

    def lower_soft() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    with running_server(tmp_path / "data", preexec_fn=lower_soft) as server:
        assert _open_file_limit(server.proc.pid) == (hard, hard)


def test_out_of_file_descriptors_new_visitors_are_answered_and_the_log_stays_small(
    tmp_path: Path,
) -> None:
    """200 slow bodies against a process limited to 128 files: accept() fails with EMFILE."""
    with running_server(
        tmp_path / "data",
        preexec_fn=_limit_open_files(128),
        GAPO_BODY_TIMEOUT="1",
    ) as server:
        port = _port(server)
        slow: list[socket.socket] = []
        for _ in range(200):
            try:
                slow.append(_open_post(port, 100_000))
            except OSError:
                break  # the kernel's accept queue is full: enough pressure
        with _trickling(slow), ThreadPoolExecutor(8) as pool:
            visitors = list(pool.map(lambda _: _health(server), range(8)))
        assert visitors == [200] * 8
        statuses = [_status(_read_until_closed(sock, timeout=5)) for sock in slow[:20]]
        for sock in slow:
            sock.close()
        assert 408 in statuses
    output = server.output
    lines = [line for line in output.splitlines() if '] "' not in line]  # access-log lines aside
    assert "Too many open files" in output  # EMFILE happened, and it was said
    assert output.count("Traceback") == 0
    assert len(lines) < 40, "\n".join(lines[:80])
