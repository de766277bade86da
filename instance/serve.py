"""`gapo serve`: Hypercorn running `instance.asgi:app` in one or several worker processes.

With several workers each one listens on a socket of its own, all bound to the same port
with SO_REUSEPORT, and the kernel spreads new connections over them by a hash of the
client's address and port. Hypercorn's own `--workers` shares ONE listening socket: every
worker is woken for each connection and the first to call accept() takes it, so a burst of
connections lands mostly on whichever worker is already awake (measured: 1,998 req/s with
2 workers against 3,871 with one socket per worker; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from multiprocessing import get_context
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any
from urllib.parse import urlsplit

from hypercorn.asyncio.run import asyncio_worker
from hypercorn.config import Config, Sockets
from hypercorn.run import run

from instance.access_log import PrivateAccessLogger
from instance.config import Settings
from instance.db.migrate import pending_migrations
from instance.server_limits import install_fd_exhaustion_filter, raise_open_file_limit, tune
from instance.services import SchemaOutOfDate

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """One handler on the root logger, in this process and in each spawned worker."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    install_fd_exhaustion_filter()


def port_mismatch(settings: Settings, port: int) -> str | None:
    """A warning when the base URL names another port than the bound one and no proxy is set.

    Without a reverse proxy the browser reaches the bound port, while every link, form
    action and id is built from GAPO_BASE_URL: `make run PORT=8001` with the default base
    URL sent people to :8000. Behind a proxy (GAPO_TRUSTED_PROXIES > 0) the ports differ on
    purpose, so nothing is said.
    """
    if settings.trusted_proxies > 0:
        return None
    parts = urlsplit(settings.base_url)
    public_port = parts.port or (443 if parts.scheme == "https" else 80)
    if public_port == port:
        return None
    return (
        f"warning: GAPO_BASE_URL is {settings.base_url} (port {public_port}) but Gapo listens "
        f"on port {port} with GAPO_TRUSTED_PROXIES=0: links will point at the wrong port. "
        f"Set GAPO_BASE_URL (e.g. http://localhost:{port}), or GAPO_TRUSTED_PROXIES behind a proxy."
    )


def default_workers() -> int:
    """One worker per CPU this process may run on (what `--workers` defaults to)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket's first half (bound, not listening: the worker listens with its
    backlog), set as Hypercorn sets its own, plus SO_REUSEPORT so that several may share
    the port. The kernel admits into one port's group only sockets of the same user."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def run_spread(config: Config, host: str, port: int, workers: int) -> int:
    """Hypercorn workers with one SO_REUSEPORT socket each; returns the exit code.

    Supervision as Hypercorn's own: a worker that exits cleanly is replaced on the same
    socket (a socket without a worker would hold its share of connections unanswered); one
    that fails stops them all; SIGINT or SIGTERM shuts every worker down gracefully.
    """
    sockets = [reuse_port_socket(host, port) for _ in range(workers)]
    ctx = get_context("spawn")  # as Hypercorn: workers rebuild settings from the environment
    shutdown_event = ctx.Event()
    processes: dict[int, BaseProcess] = {}
    stopping = False

    def stop(*_args: Any) -> None:
        nonlocal stopping
        stopping = True
        shutdown_event.set()

    # Children inherit "ignore SIGINT": a Ctrl-C reaches them through the shutdown event.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exitcode = 0
    try:
        while True:
            for slot, sock in enumerate(sockets):
                if slot not in processes and not stopping:
                    processes[slot] = _start_worker(ctx, config, sock, shutdown_event)
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
            if not processes:
                break
            wait([p.sentinel for p in processes.values()])
            for slot, process in list(processes.items()):
                if process.exitcode is not None:
                    process.join()
                    del processes[slot]
                    if process.exitcode != 0 and exitcode == 0:
                        exitcode = process.exitcode
            if exitcode != 0:
                stop()
    finally:
        for process in processes.values():
            process.terminate()
            process.join()
        for sock in sockets:
            sock.close()
    return exitcode


def _start_worker(ctx: Any, config: Config, sock: socket.socket, event: Event) -> BaseProcess:
    process: BaseProcess = ctx.Process(
        target=asyncio_worker,
        kwargs={"config": config, "shutdown_event": event, "sockets": Sockets([], [sock], [])},
    )
    process.start()
    return process


def serve(settings: Settings, *, host: str, port: int, workers: int | None = None) -> int:
    workers = default_workers() if workers is None else workers
    configure_logging()
    warning = port_mismatch(settings, port)
    if warning:
        print(warning, file=sys.stderr)
    # Refuse early and clearly rather than in every worker.
    if asyncio.run(pending_migrations(settings.database_url)):
        raise SchemaOutOfDate("the database schema is not current: run `gapo migrate` first")
    # Workers are spawned, not forked: they rebuild settings from the environment.
    os.environ["GAPO_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["GAPO_BASE_URL"] = settings.base_url
    os.environ["GAPO_DATABASE_URL"] = settings.database_url
    os.environ["GAPO_RUN_JOBS"] = "1" if settings.run_jobs else "0"
    config = Config()
    config.application_path = "instance.asgi:app"
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    # One worker runs in this process (signals reach it directly); more are spawned children.
    config.workers = 0 if workers <= 1 else workers
    # Off unless the admin asks; when on, a line never names the client (instance/access_log.py).
    config.logger_class = PrivateAccessLogger
    config.accesslog = "-" if settings.access_log else None
    # Given a name, Hypercorn adds its own handler and still propagates to the root one, so
    # each line printed twice; given the logger, its lines go through the root handler once.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 10
    print(
        f"Gapo is serving {settings.base_url} on http://{host}:{port} ({max(1, workers)} worker(s))"
    )
    tune(config)  # connection limits, and more open files (docs/overload.md)
    raise_open_file_limit()
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        return run(config)
    try:
        return run_spread(config, host, port, workers)
    except OSError as exc:
        print(f"gapo serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
