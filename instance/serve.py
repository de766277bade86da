"""`gapo serve`: Hypercorn running `instance.asgi:app` in one or several worker processes
(spread over their own sockets by instance/serve_workers.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from urllib.parse import urlsplit

from hypercorn.config import Config

from instance.access_log import PrivateAccessLogger
from instance.config import Settings
from instance.db.migrate import pending_migrations
from instance.serve_workers import run_workers
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
    # One worker runs in this process (signals reach it directly); more are spawned children
    # (run_workers).
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
    return run_workers(config, host, port, workers)
