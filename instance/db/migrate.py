"""Schema migrations: versioned SQL files under `migrations/`, applied by yoyo-migrations to
SQLite, and by `migrate_postgres.py` to PostgreSQL (the same history)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from yoyo import get_backend, read_migrations

from instance.db.backend import sqlite_file
from instance.db.migrate_postgres import apply_postgresql, pending_postgresql
from instance.db.sqlite import enable_wal

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _apply_sync(database_url: str) -> list[str]:
    backend = get_backend(database_url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def _pending_sync(database_url: str) -> list[str]:
    migrations = read_migrations(str(MIGRATIONS_DIR))
    # A database file that does not exist yet needs everything; opening it to ask would
    # create an empty file (or fail when its folder is missing).
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        return [m.id for m in migrations]
    backend = get_backend(database_url)
    return [m.id for m in backend.to_apply(migrations)]


def _compact_sync(sqlite_path: Path) -> None:
    """Rewrites the file and empties the WAL: what a migration wiped (the session addresses
    of 0006) must not linger in free pages or old WAL frames of the data directory."""
    conn = sqlite3.connect(sqlite_path, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def migrate(database_url: str, sqlite_path: Path | None = None) -> list[str]:
    """Bring the schema up to date; returns the ids applied (empty when already current)."""
    if sqlite_file(database_url) is None:
        return await apply_postgresql(database_url, MIGRATIONS_DIR)
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        await enable_wal(sqlite_path)
    applied = await asyncio.to_thread(_apply_sync, database_url)
    if applied and sqlite_path is not None:
        await asyncio.to_thread(_compact_sync, sqlite_path)
    return applied


async def pending_migrations(database_url: str) -> list[str]:
    if sqlite_file(database_url) is None:
        return await pending_postgresql(database_url, MIGRATIONS_DIR)
    return await asyncio.to_thread(_pending_sync, database_url)
