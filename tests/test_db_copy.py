"""`gapo db copy`: every row of a live instance's SQLite file into another database, checked.

The source is an instance with people, posts, a reply under a remote post fetched after it
(a reference the table order cannot satisfy), likes, shares, follows, notifications and
jobs; the target a freshly migrated database. Every data table must then hold the same
rows, search must find the same things, and a target that already holds rows is refused.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from instance.cli import main
from instance.config import Settings
from instance.db import open_database
from instance.db.copy import CopyError, copy_sqlite, plan
from instance.db.migrate import migrate
from tests.helpers.social import act_ok, gapo, user, write


def rows_of(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [t.name for t in plan(conn_with_rows(conn))]
        conn.row_factory = None
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


def conn_with_rows(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.row_factory = sqlite3.Row
    return conn


async def populated(app: Quart) -> None:
    lan, minh = await user(app, "lan"), await user(app, "minh")
    first = await write(lan, "Phở ở Hà Nội ngon nhất")
    await write(minh, "trả lời", in_reply_to=str(first))
    await act_ok(minh, f"/p/{first}/like")
    await act_ok(minh, f"/p/{first}/share")
    await act_ok(
        minh,
        "/follow",
        account_id=str(
            await gapo(app).db.fetch_value("SELECT id FROM accounts WHERE username = 'lan'")
        ),
    )
    await write(lan, "chỉ người theo dõi", "followers")


async def target_db(tmp_path: Path, settings: Settings) -> tuple[Path, Any]:
    path = tmp_path / "target" / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    await migrate(url, path)
    return path, await open_database(settings.with_(database_url=url))


async def test_every_row_arrives_and_search_finds_the_same(
    app: Quart, settings: Settings, tmp_path: Path
) -> None:
    await populated(app)
    db = gapo(app).db
    # A reply stored before the post it answers (a remote thread fetched from its end):
    # its parent's id is the larger one, so id order alone cannot satisfy the reference.
    reply, parent = await db.fetch_all("SELECT id FROM posts ORDER BY id LIMIT 2")
    await db.execute(
        "UPDATE posts SET in_reply_to_id = :p WHERE id = :r", {"p": parent["id"], "r": reply["id"]}
    )
    path, target = await target_db(tmp_path, settings)
    try:
        report = await copy_sqlite(settings.sqlite_path, target)
        found = await target.fetch_all(
            "SELECT rowid AS id FROM post_search WHERE post_search MATCH 'pho'"
        )
    finally:
        await target.close()
    source_rows, target_rows = rows_of(settings.sqlite_path), rows_of(path)
    assert source_rows == target_rows
    # Two people and the instance actor.
    assert report.counts["posts"] == 3 and report.counts["accounts"] == 3
    assert report.counts["likes"] == report.counts["shares"] == report.counts["follows"] == 1
    assert report.rows == sum(len(r) for r in source_rows.values())
    assert [r["id"] for r in found] == [
        r["id"]
        for r in await db.fetch_all(
            "SELECT rowid AS id FROM post_search WHERE post_search MATCH 'pho'"
        )
    ]
    assert len(found) == 1


async def test_a_target_with_rows_is_refused(
    app: Quart, settings: Settings, tmp_path: Path
) -> None:
    await populated(app)
    _, target = await target_db(tmp_path, settings)
    try:
        await copy_sqlite(settings.sqlite_path, target)
        with pytest.raises(CopyError, match="not empty"):
            await copy_sqlite(settings.sqlite_path, target)
    finally:
        await target.close()


def test_the_order_satisfies_every_reference_but_the_deferred(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.executescript(
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));"
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id),"
        " parent INTEGER REFERENCES a (id));"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a (id));"
    )
    tables = {t.name: t for t in plan(conn_with_rows(conn))}
    order = list(tables)
    assert order.index("a") < order.index("c")
    # a and b refer to each other: one of the two references waits for the second pass.
    assert {tuple(tables["a"].deferred), tuple(tables["b"].deferred)} & {
        ("b_id", "parent"),
        ("a_id",),
    }
    assert "parent" in tables["a"].deferred
    assert tables["c"].deferred == []


def test_the_command_copies_and_says_what_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("GAPO_DATA_DIR", str(data))
    assert main(["migrate"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a good long passphrase 42\n"))
    assert main(["user", "create", "lan", "--password-stdin"]) == 0
    target = tmp_path / "new" / "gapo.sqlite3"
    code = main(["db", "copy", "--to", f"sqlite:///{target}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"GAPO_DATABASE_URL=sqlite:///{target}" in out
    assert "every count matches" in out
    # Again into the same, now full, database: refused, and said why.
    assert main(["db", "copy", "--to", f"sqlite:///{target}"]) == 1
    assert "not empty" in capsys.readouterr().err
