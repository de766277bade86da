"""Helpers for tests that run Gapo as real processes: the `gapo` command and `gapo serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import postgres

ROOT = Path(__file__).resolve().parents[2]
GAPO = Path(sys.executable).parent / "gapo"


def gapo_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `gapo` child: its own data dir, cheap argon2, this checkout's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAPO_")}
    env.update(
        GAPO_DATA_DIR=str(data_dir),
        GAPO_ARGON2_TIME_COST="1",
        GAPO_ARGON2_MEMORY_KIB="1024",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if postgres.wanted() and "GAPO_DATABASE_URL" not in extra:
        # The child's database is its data dir's, as in this process (tests/helpers/postgres.py).
        env["GAPO_DATABASE_URL"] = postgres.database_for(data_dir)
    return env


def gapo(
    data_dir: Path, *args: str, stdin: str = "", timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """Runs `gapo ARGS` to completion and returns its exit code and output."""
    return subprocess.run(
        [str(GAPO), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=gapo_env(data_dir, **env),
        cwd=next(p for p in data_dir.parents if p.is_dir()),
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(port: int, proc: subprocess.Popen[str], seconds: float = 30) -> str:
    """Polls /health until the server answers; fails if it exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gapo serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gapo serve did not answer on port {port} within {seconds}s")


class Server:
    """A running `gapo serve`: its base URL, data dir and (after it stops) its output."""

    def __init__(
        self, base_url: str, data_dir: Path, proc: subprocess.Popen[str], drain: _Drain
    ) -> None:
        self.base_url = base_url
        self.data_dir = data_dir
        self.proc = proc
        self.drain = drain
        self.output = ""


class _Drain:
    """Reads a child's output while it runs: a full pipe (64 KiB) would block its logging."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.chunks: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.chunks.append(line)


def _stop(proc: subprocess.Popen[str], drain: _Drain) -> str:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    drain.thread.join(timeout=20)
    if proc.stdout is not None:
        proc.stdout.close()
    return "".join(drain.chunks)


def _start(
    data_dir: Path,
    args: tuple[str, ...],
    workers: int,
    env: dict[str, str],
    preexec_fn: Callable[[], None] | None = None,
) -> Server:
    """Starts `gapo serve` on a free port; retries when another process took the port first."""
    for _attempt in range(3):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [str(GAPO), *args, "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=gapo_env(data_dir, GAPO_BASE_URL=base_url, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=preexec_fn,
        )
        drain = _Drain(proc)
        try:
            wait_for_health(port, proc)
        except AssertionError as exc:
            output = _stop(proc, drain)
            if "address already in use" in output.lower():
                continue
            raise AssertionError(f"{exc}\n{output}") from None
        return Server(base_url, data_dir, proc, drain)
    raise AssertionError("no free port for gapo serve after 3 attempts")


@contextmanager
def running_server(
    data_dir: Path,
    *args: str,
    workers: int = 1,
    preexec_fn: Callable[[], None] | None = None,
    **env: str,
) -> Iterator[Server]:
    """`gapo migrate`, then `gapo [ARGS] serve` on a free loopback port until the block ends.

    `preexec_fn` runs in the server's process before it starts (to lower a resource limit).
    """
    migrated = gapo(data_dir, "migrate", stdin="", timeout=60, **env)
    assert migrated.returncode == 0, migrated.stderr
    server = _start(data_dir, args, workers, env, preexec_fn)
    try:
        yield server
    finally:
        server.output = _stop(server.proc, server.drain)
