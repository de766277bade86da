"""`gapo serve --workers N`: one SO_REUSEPORT socket per worker, one worker per CPU by default."""

from __future__ import annotations

import os
import socket

from instance.cli import build_parser
from instance.serve import default_workers
from instance.serve_workers import reuse_port_socket
from tests.helpers.processes import free_port


def test_each_worker_gets_its_own_socket_on_one_port() -> None:
    """Several sockets listen on the same port, so the kernel can spread connections."""
    port = free_port()
    sockets = [reuse_port_socket("127.0.0.1", port) for _ in range(2)]
    try:
        for sock in sockets:
            sock.listen(8)
            assert sock.getsockname()[1] == port
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # A connection reaches one of them.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        for sock in sockets:
            sock.close()


def test_workers_default_to_the_cpus_this_process_may_use() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_workers() == expected
    args = build_parser().parse_args(["serve"])
    assert args.workers is None  # resolved to default_workers() by `serve`
