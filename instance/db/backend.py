"""`open_database(settings)`: the one place that picks the storage backend from the URL.

`sqlite:///path` (the default) opens `sqlite.py`'s backend; `postgresql://…` (or
`postgres://…`) opens `postgres.py`'s, a pool of `database_pool_size` connections.
"""

from __future__ import annotations

from pathlib import Path

from instance.config import ConfigError, Settings
from instance.db.connection import Database

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


class UnsupportedDatabase(ConfigError):
    """GAPO_DATABASE_URL names a backend this version cannot open."""


def is_postgresql(database_url: str) -> bool:
    return database_url.startswith(POSTGRES_PREFIXES)


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite file a `sqlite:///` URL names; None for a PostgreSQL URL; any other URL
    is refused clearly."""
    if database_url.startswith(SQLITE_PREFIX):
        return Path(database_url.removeprefix(SQLITE_PREFIX))
    if is_postgresql(database_url):
        return None
    scheme = database_url.partition(":")[0] or database_url
    raise UnsupportedDatabase(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path or postgresql://…"
    )


async def open_database(settings: Settings) -> Database:
    """The backend `settings.database_url` names, opened and ready for queries."""
    path = sqlite_file(settings.database_url)
    db: Database
    if path is None:
        from instance.db.postgres import PostgresDatabase

        pg = PostgresDatabase(settings.database_url, pool_size=settings.database_pool_size)
        await pg.open()
        db = pg
    else:
        from instance.db.sqlite import SqliteDatabase

        lite = SqliteDatabase(path, synchronous=settings.sqlite_synchronous)
        await lite.open()
        db = lite
    return db
