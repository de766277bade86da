"""`open_database(settings)`: SQLite or PostgreSQL opened behind the `Database` protocol; a URL
of a backend this version lacks is refused with a clear message, an unreachable PostgreSQL
is a 503-style `DatabaseUnavailable`, by the code and by the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from instance.config import Settings
from instance.db import Database, Transaction, UnsupportedDatabase, open_database
from instance.db.migrate import migrate
from instance.db.postgres import DatabaseUnavailable, PostgresDatabase
from instance.db.sqlite import SqliteDatabase
from tests.helpers import postgres
from tests.helpers.processes import gapo
from tests.helpers.web import make_settings


def _sqlite_settings(tmp_path: Path) -> Settings:
    """SQLite whatever GAPO_TEST_DATABASE says: these tests are about that backend."""
    return make_settings(
        tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'data' / 'gapo.sqlite3'}"
    )


async def test_sqlite_url_opens_a_working_database(tmp_path: Path) -> None:
    """The default URL opens the SQLite file; a write in a transaction is read back after."""
    settings = _sqlite_settings(tmp_path)
    await migrate(settings.database_url, settings.sqlite_path)
    db: Database = await open_database(settings)
    try:
        assert isinstance(db, SqliteDatabase)
        async with db.transaction() as tx:
            assert isinstance(tx, Transaction)
            await tx.execute("INSERT INTO id_node_claims (seq, claimed_at) VALUES (7, 0)")
        assert not isinstance(db, Transaction)  # only a transaction has after_commit
        assert await db.fetch_value("SELECT seq FROM id_node_claims WHERE seq = 7") == 7
    finally:
        await db.close()


async def test_after_commit_runs_once_and_only_after_commit(tmp_path: Path) -> None:
    """A callback registered twice runs once, after the commit; a rollback runs none."""
    settings = _sqlite_settings(tmp_path)
    await migrate(settings.database_url, settings.sqlite_path)
    db = await open_database(settings)
    calls: list[str] = []

    def called() -> None:
        calls.append("x")

    try:
        async with db.transaction() as tx:
            tx.after_commit(called)
            tx.after_commit(called)
            assert calls == []
        assert calls == ["x"]
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                tx.after_commit(called)
                raise RuntimeError("roll back")
        assert calls == ["x"]
    finally:
        await db.close()


async def test_postgresql_url_opens_the_postgresql_backend(tmp_path: Path) -> None:
    """A postgresql:// URL opens a pool on a private cluster; rows come back as mappings,
    and `version()` moves once something commits."""
    url = postgres.empty_database("backend_opens")
    await migrate(url)
    db = await open_database(make_settings(tmp_path / "data", database_url=url))
    try:
        assert isinstance(db, PostgresDatabase)
        before = await db.version()
        assert await db.version() == before
        async with db.transaction() as tx:
            assert isinstance(tx, Transaction)
            await tx.execute(
                "INSERT INTO id_node_claims (seq, claimed_at) VALUES (:s, 0)", {"s": 7}
            )
        assert await db.version() != before
        row = await db.fetch_one(
            "SELECT seq, claimed_at FROM id_node_claims WHERE seq = :s", {"s": 7}
        )
        assert row == {"seq": 7, "claimed_at": 0}
    finally:
        await db.close()
    assert not (tmp_path / "data" / "gapo.sqlite3").exists()


@pytest.mark.parametrize(
    "url", ["postgresql://gapo@/gapo?host=/nonexistent", "postgres://gapo@127.0.0.1:1/gapo"]
)
async def test_unreachable_postgresql_is_unavailable_not_a_crash(tmp_path: Path, url: str) -> None:
    """Nothing listening: the 503 error of an overloaded server, not a driver exception."""
    settings = make_settings(tmp_path / "data", database_url=url)
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_database(settings)
    assert caught.value.status == 503 and caught.value.retry_after


async def test_unknown_scheme_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", database_url="mysql://db/gapo")
    with pytest.raises(UnsupportedDatabase, match="'mysql'"):
        await open_database(settings)


@pytest.mark.parametrize("args", [("migrate",), ("user", "list")])
def test_commands_say_when_postgresql_is_unreachable(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Exit 2 and one line, no traceback, whatever the command."""
    result = gapo(
        tmp_path / "data",
        *args,
        timeout=30,
        GAPO_DATABASE_URL="postgresql://gapo@/gapo?host=/nonexistent",
    )
    assert result.returncode == 2, result.stderr
    assert "gapo: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
