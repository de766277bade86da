"""Storage: migrations from empty, SQLite pragmas, the id generator and node claims."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from instance.db.migrate import MIGRATIONS_DIR, migrate, pending_migrations
from instance.db.nodes import claim_node
from instance.db.sqlite import SqliteDatabase
from instance.ids import EPOCH_MS, NODE_BITS, SEQ_BITS, IdGenerator, now

FOUNDATION_TABLES = {"accounts", "users", "sessions", "invites", "keypairs", "id_node_claims"}


def declared_tables() -> set[str]:
    text = "\n".join(p.read_text() for p in sorted(MIGRATIONS_DIR.glob("*.sql")))
    created = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", text, flags=re.IGNORECASE))
    # A table rebuilt under a new name (SQLite cannot drop a constraint) ends under the old one.
    renamed = set(re.findall(r"ALTER TABLE (\w+) RENAME TO", text, flags=re.IGNORECASE))
    return created - renamed


async def test_migrate_from_empty_creates_every_table(tmp_path: Path) -> None:
    """A fresh file gets every table the migrations declare, and nothing is pending after."""
    path = tmp_path / "fresh" / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    assert await pending_migrations(url)
    assert not path.exists()  # asking what is pending creates nothing
    applied = await migrate(url, path)
    assert applied
    assert await pending_migrations(url) == []
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert FOUNDATION_TABLES <= declared_tables() <= tables


async def test_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    """A second migrate applies nothing and leaves the data alone."""
    path = tmp_path / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    await migrate(url, path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO id_node_claims (seq, claimed_at) VALUES (1, 0)")
    assert await migrate(url, path) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM id_node_claims").fetchone()[0] == 1


async def test_connection_pragmas(tmp_path: Path) -> None:
    """Writer connections run with foreign keys on, a busy timeout and the chosen sync mode."""
    path = tmp_path / "gapo.sqlite3"
    await migrate(f"sqlite:///{path}", path)
    for mode, expected in (("FULL", 2), ("NORMAL", 1)):
        db = SqliteDatabase(path, synchronous=mode)
        await db.open()
        try:
            async with db.transaction() as tx:
                assert await tx.fetch_value("PRAGMA foreign_keys") == 1
                assert await tx.fetch_value("PRAGMA busy_timeout") >= 1000
                assert await tx.fetch_value("PRAGMA synchronous") == expected
            assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        finally:
            await db.close()


async def test_failed_transaction_leaves_no_row(tmp_path: Path) -> None:
    """An exception inside a transaction rolls back every statement in it."""
    path = tmp_path / "gapo.sqlite3"
    await migrate(f"sqlite:///{path}", path)
    db = SqliteDatabase(path)
    await db.open()
    try:
        try:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO id_node_claims (seq, claimed_at) VALUES (7, 0)")
                raise ValueError("boom")
        except ValueError:
            pass
        assert await db.fetch_value("SELECT COUNT(*) AS n FROM id_node_claims") == 0
    finally:
        await db.close()


def test_ids_are_monotonic_and_unique() -> None:
    """Ids from one generator strictly increase, even many within one millisecond."""
    gen = IdGenerator(node=3)
    ids = [gen.next_id() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i < 2**63 for i in ids)
    assert (ids[0] >> SEQ_BITS) & ((1 << NODE_BITS) - 1) == 3


def test_ids_sort_by_time() -> None:
    """An id carries its creation time in its high bits."""
    before = now()
    made = IdGenerator(1).next_id()
    assert (made >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS >= before * 1000


def test_two_nodes_never_collide() -> None:
    """Two generators with different nodes, minting at once, share no id."""
    a, b = IdGenerator(node=1), IdGenerator(node=2)
    ids_a = {a.next_id() for _ in range(5000)}
    ids_b = {b.next_id() for _ in range(5000)}
    assert len(ids_a) == len(ids_b) == 5000
    assert not ids_a & ids_b


async def test_claim_node_gives_distinct_nodes(tmp_path: Path) -> None:
    """Two opens of one database claim different node numbers."""
    path = tmp_path / "gapo.sqlite3"
    await migrate(f"sqlite:///{path}", path)
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    await first.open()
    await second.open()
    try:
        nodes = [await claim_node(first, now()), await claim_node(second, now())]
        nodes.append(await claim_node(first, now()))
        assert len(set(nodes)) == 3
    finally:
        await first.close()
        await second.close()
