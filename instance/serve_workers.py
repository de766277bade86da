"""Hypercorn workers of `gapo serve` (and of bench/harness.py's bare app), spread evenly.

With several workers each one listens on a socket of its own, all bound to the same port
with SO_REUSEPORT, and the kernel spreads new connections over them by a hash of the
client's address and port. Hypercorn's own `--workers` shares ONE listening socket: every
worker is woken for each connection and the first to call accept() takes it, so a burst of
connections lands mostly on whichever worker is already awake (measured: 1,998 req/s with
2 workers against 3,871 with one socket per worker; docs/performance.md).
"""

from __future__ import annotations

import signal
import socket
import sys
from multiprocessing import get_context
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from hypercorn.asyncio.run import asyncio_worker
from hypercorn.config import Config, Sockets
from hypercorn.run import run


def run_workers(config: Config, host: str, port: int, workers: int) -> int:
    """Serves `config` in `workers` processes, spread by SO_REUSEPORT where the OS has it.

    Also what bench/harness.py's bare app runs, so that the ceiling it measures is served
    the same way.
    """
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        config.workers = 0 if workers <= 1 else workers
        return run(config)
    config.workers = workers
    try:
        return run_spread(config, host, port, workers)
    except OSError as exc:
        print(f"gapo serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1


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
