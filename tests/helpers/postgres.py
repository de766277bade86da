"""A private PostgreSQL cluster for the tests, from Debian's `postgresql` package.

One cluster per test process (each xdist worker has its own), in a temporary directory,
listening only on a Unix socket in that directory (no TCP port at all), stopped when the
process exits. initdb refuses to run as root, so under uid 0 the cluster belongs to the
`postgres` system user the package creates. Durability is off (fsync, full pages): the
cluster lives as long as the test run.

Every test database starts as a copy of one migrated template (`CREATE DATABASE …
TEMPLATE`), made once per process, as `tests/helpers/schema.py` does for SQLite files. A
data dir maps to one database, so an app restarted on the same data dir finds its rows
again. Creating a database costs ~0.4 s here, so the databases of a finished test are
emptied (`DELETE` with triggers off, ~0.1 s) and handed to the next one (`release_all`,
called after each test by tests/conftest.py).

`GAPO_TEST_DATABASE=postgresql` makes `tests/helpers/web.make_settings` hand out these
databases instead of SQLite files (the second pass of `make test`).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from instance.db.migrate import migrate

TEMPLATE = "gapo_template"
USER = "gapo"


def wanted() -> bool:
    """Whether this test run puts the instance's data on PostgreSQL."""
    return os.environ.get("GAPO_TEST_DATABASE", "sqlite").lower() in ("postgresql", "postgres")


def server_bin() -> Path | None:
    """The bin folder of the highest PostgreSQL version installed, if any."""
    root = Path("/usr/lib/postgresql")
    versions = [p for p in root.glob("*/bin") if (p / "initdb").exists()] if root.exists() else []
    if not versions:
        return None
    return max(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


@dataclass
class Cluster:
    """One running cluster: its socket folder and how to reach a database on it."""

    bin: Path
    root: Path
    run_as: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@/{database}?host={self.socket_dir}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=120)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-U",
                USER,
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout.strip()

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """A new cluster in a new temporary directory, running; stopped at process exit."""
    found = server_bin()
    if found is None:
        raise RuntimeError(
            "PostgreSQL is not installed: run scripts/system-packages.sh (Debian's postgresql)"
        )
    root = Path(tempfile.mkdtemp(prefix="gapo-pg-"))
    (root / "socket").mkdir()
    run_as: list[str] = []
    if os.getuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, root / "socket"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(found, root, run_as)
    data = root / "data"
    cluster._run(
        str(found / "initdb"),
        "-D",
        str(data),
        "-U",
        USER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    options = (
        f"-c listen_addresses='' -k {root / 'socket'} -c fsync=off -c full_page_writes=off"
        " -c synchronous_commit=off -c max_connections=200"
    )
    cluster._run(
        str(found / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-o",
        options,
        "-w",
        "start",
    )
    atexit.register(cluster.stop)
    return cluster


_lock = threading.Lock()
_cluster: Cluster | None = None
_databases: dict[str, str] = {}
_free: list[str] = []
_made = 0


def cluster() -> Cluster:
    """This process's cluster, started (and its template migrated) on first use."""
    global _cluster
    with _lock:
        if _cluster is None:
            started = start_cluster()
            started.psql(f"CREATE DATABASE {TEMPLATE}")
            # In a thread of its own: the caller may be inside a running event loop.
            worker = threading.Thread(
                target=lambda: asyncio.run(migrate(started.url(TEMPLATE))), daemon=True
            )
            worker.start()
            worker.join()
            _cluster = started
        return _cluster


def _tables(pg: Cluster, database: str) -> list[str]:
    listed = pg.psql(
        "SELECT string_agg(tablename, ',') FROM pg_tables"
        " WHERE schemaname = 'public' AND tablename != 'gapo_migrations'",
        database,
    )
    return listed.split(",")


def _wipe(pg: Cluster, database: str) -> None:
    """Every row gone, the schema kept: as the template was. Triggers (the foreign keys)
    are off for it, so the order of the tables does not matter."""
    deletes = " ".join(f"DELETE FROM {table};" for table in _tables(pg, database))
    pg.psql(f"SET session_replication_role = replica; {deletes}", database)


def database_for(data_dir: Path) -> str:
    """The URL of the database that belongs to `data_dir` during this test: one emptied
    after an earlier test, or a new copy of the migrated template."""
    global _made
    key = str(Path(data_dir).resolve())
    with _lock:
        known = _databases.get(key)
        reused = _free.pop() if known is None and _free else None
    if known is not None:
        return known
    pg = cluster()
    if reused is not None:
        name = reused
        _wipe(pg, name)
    else:
        with _lock:
            _made += 1
            name = f"t_{os.getpid()}_{_made}"
        pg.psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    url = pg.url(name)
    with _lock:
        _databases[key] = url
    return url


def release_all() -> None:
    """The databases handed out so far may be emptied and reused (the test is over)."""
    with _lock:
        _free.extend(url.partition("@/")[2].partition("?")[0] for url in _databases.values())
        _databases.clear()


def empty_database(name: str) -> str:
    """The URL of a new database with no schema at all (for the migration tests)."""
    pg = cluster()
    pg.psql(f"CREATE DATABASE {name}")
    return pg.url(name)
