"""`open_database(settings)`: the one place that picks the storage backend from the URL.

SQLite is the only backend today. A PostgreSQL URL is refused with a clear message until
its backend exists (issue 16): then it is a module beside `sqlite.py` that implements the
`Database` protocol, and one more branch here.
"""

from __future__ import annotations

from pathlib import Path

from instance.config import ConfigError, Settings
from instance.db.connection import Database
from instance.db.sqlite import SqliteDatabase

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


class UnsupportedDatabase(ConfigError):
    """GAPO_DATABASE_URL names a backend this version cannot open."""


def sqlite_file(database_url: str) -> Path:
    """The SQLite file a `sqlite:///` URL names; any other URL is refused clearly."""
    if database_url.startswith(SQLITE_PREFIX):
        return Path(database_url.removeprefix(SQLITE_PREFIX))
    if database_url.startswith(POSTGRES_PREFIXES):
        raise UnsupportedDatabase(
            "PostgreSQL is not supported yet (planned in issue 16): set GAPO_DATABASE_URL to a"
            " sqlite:/// URL, or leave it unset for <data dir>/gapo.sqlite3"
        )
    scheme = database_url.partition(":")[0] or database_url
    raise UnsupportedDatabase(
        f"unsupported database URL scheme {scheme!r}: only sqlite:/// URLs are supported"
    )


async def open_database(settings: Settings) -> Database:
    """The backend `settings.database_url` names, opened and ready for queries."""
    db = SqliteDatabase(sqlite_file(settings.database_url), synchronous=settings.sqlite_synchronous)
    await db.open()
    return db
