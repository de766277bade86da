"""`open_database(settings)`: SQLite opened behind the `Database` protocol; a URL of a backend
this version lacks is refused with a clear message, by the code and by the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from instance.db import Database, Transaction, UnsupportedDatabase, open_database
from instance.db.migrate import migrate
from instance.db.sqlite import SqliteDatabase
from tests.helpers.processes import gapo
from tests.helpers.web import make_settings


async def test_sqlite_url_opens_a_working_database(tmp_path: Path) -> None:
    """The default URL opens the SQLite file; a write in a transaction is read back after."""
    settings = make_settings(tmp_path / "data")
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
    settings = make_settings(tmp_path / "data")
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


@pytest.mark.parametrize("url", ["postgresql://gapo@localhost/gapo", "postgres://db/gapo"])
async def test_postgresql_url_is_refused_clearly(tmp_path: Path, url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url=url)
    with pytest.raises(UnsupportedDatabase, match="PostgreSQL is not supported yet"):
        await open_database(settings)
    assert not (tmp_path / "data" / "gapo.sqlite3").exists()


async def test_unknown_scheme_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", database_url="mysql://db/gapo")
    with pytest.raises(UnsupportedDatabase, match="'mysql'"):
        await open_database(settings)


@pytest.mark.parametrize("args", [("migrate",), ("user", "list"), ("worker",)])
def test_commands_refuse_a_postgresql_url(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Exit 2 and one line that names the problem, no traceback, whatever the command."""
    result = gapo(
        tmp_path / "data", *args, timeout=30, GAPO_DATABASE_URL="postgresql://localhost/gapo"
    )
    assert result.returncode == 2, result.stderr
    assert "PostgreSQL is not supported yet" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
