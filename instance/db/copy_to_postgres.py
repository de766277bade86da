"""`gapo db copy --to postgresql://…`: every row of the SQLite file into an empty, migrated
PostgreSQL database, then the row counts of both compared, table by table.

Ids are made by the app and keys are rows, so a copy is the whole instance: accounts, posts,
keys, sessions, jobs still queued, the search index. Each table is one COPY (foreign keys
are checked at the end of the statement, so a reply stored before its parent is fine);
tables go parents first, by the foreign keys PostgreSQL knows; all of it is one
transaction, so a failed copy leaves the target empty. Nothing may write to the SQLite
file meanwhile: the instance is stopped first (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from instance.db.migrate import migrate
from instance.db.postgres import reachable

BATCH = 2000
# Kept by the migration tools, not data: each engine has its own record of the history.
_NOT_DATA = ("gapo_migrations",)


class CopyRefused(RuntimeError):
    """The copy cannot start (target not empty, tables that do not match) or did not verify."""


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    names = {r[0] for r in rows}
    virtual = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
        )
    }
    # FTS5 keeps each index in shadow tables named after it; yoyo keeps its own tables.
    return {
        n
        for n in names
        if not n.startswith(("sqlite_", "_yoyo", "yoyo"))
        and not any(n.startswith(v + "_") for v in virtual)
    }


async def _pg_order(conn: asyncpg.Connection) -> list[str]:
    """The public tables, each after the tables its foreign keys point to."""
    tables = [
        r["tablename"]
        for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if r["tablename"] not in _NOT_DATA
    ]
    edges = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent"
        " FROM pg_constraint c WHERE c.contype = 'f'"
    )
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for edge in edges:
        if edge["child"] in parents and edge["parent"] != edge["child"]:
            parents[edge["child"]].add(edge["parent"])
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, ps in parents.items() if not ps - set(ordered))
        if not ready:
            raise CopyRefused(f"foreign keys form a cycle among {sorted(parents)}")
        ordered.extend(ready)
        for t in ready:
            del parents[t]
    return ordered


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    return [r["column_name"] for r in rows]


async def _rows(path: Path, table: str, columns: list[str]) -> AsyncIterator[tuple[Any, ...]]:
    """The table's rows, read a batch at a time on a thread (the loop stays free)."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn = await asyncio.to_thread(sqlite3.connect, str(path), check_same_thread=False)
    try:
        cursor = await asyncio.to_thread(conn.execute, f"SELECT {quoted} FROM {table}")
        while batch := await asyncio.to_thread(cursor.fetchmany, BATCH):
            for row in batch:
                yield tuple(row)
    finally:
        await asyncio.to_thread(conn.close)


def _count_sqlite(path: Path, table: str) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


async def copy_to_postgresql(sqlite_path: Path, dsn: str) -> dict[str, int]:
    """Copies every table; the row count of each, the same on both sides."""
    await migrate(dsn)  # the target at the schema the file has (both current)
    lite = sqlite3.connect(str(sqlite_path))
    try:
        source_tables = _sqlite_tables(lite)
    finally:
        lite.close()
    with reachable():
        conn = await asyncpg.connect(dsn)
    try:
        order = await _pg_order(conn)
        missing = source_tables - set(order)
        if missing:
            raise CopyRefused(f"tables the PostgreSQL schema lacks: {', '.join(sorted(missing))}")
        for table in order:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise CopyRefused(f"the target database is not empty: {table} has rows")
        counts: dict[str, int] = {}
        async with conn.transaction():
            for table in order:
                if table not in source_tables:
                    continue
                columns = await _columns(conn, table)
                await conn.copy_records_to_table(
                    table, records=_rows(sqlite_path, table, columns), columns=columns
                )
                copied = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
                expected = await asyncio.to_thread(_count_sqlite, sqlite_path, table)
                if copied != expected:
                    raise CopyRefused(f"{table}: {expected} rows in SQLite, {copied} copied")
                counts[table] = copied
        return counts
    finally:
        await conn.close()
