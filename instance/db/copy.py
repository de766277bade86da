"""`gapo db copy`: every row of an instance's SQLite file into another, empty, migrated database.

The move from the embedded default to PostgreSQL (docs/scale-out.md): the admin stops every
process, runs the copy, points `GAPO_DATABASE_URL` at the new database and starts again.
What is copied is everything that lives in rows: accounts and their keys, posts, follows,
media records, notifications, sessions, reports, the job queue with its leases, inbox
records, settings. Ids are the application's own (`instance/ids.py`), so they are copied as
they are and nothing is renumbered.

How:
- the source is read in one read transaction (a WAL snapshot), so the copy is of one
  moment even if a process was left running; that case is then detected (the file's
  `data_version` moved) and reported as a failure, since rows written after the snapshot
  would be missing;
- tables go in foreign-key order; a reference that cannot be satisfied by the order (a
  table referring to itself, as a reply to its parent, or two tables referring to each
  other) is written empty first and filled in by a second pass, once every row exists;
- rows go in chunks of `CHUNK`, each chunk one transaction on the target;
- the search index is not copied (SQLite's FTS5 tables mean nothing to another backend):
  it is rebuilt on the target from the copied rows by the index's own writers;
- at the end every table's row count is compared, and any difference is an error.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instance.db import search_index
from instance.db.connection import Database

# Rows a chunk carries: ~1 KB a row for posts and jobs, so a chunk is about 0.5 MB.
CHUNK = 500
# Not the instance's data: the migrations' own bookkeeping (the target has its own).
BOOKKEEPING_PREFIXES = ("_yoyo", "yoyo_", "sqlite_")
FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")


class CopyError(Exception):
    """The copy cannot start or did not end with equal tables; the message says why."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    # Columns written empty at first and filled in by the second pass.
    deferred: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)


@dataclass
class CopyReport:
    counts: dict[str, int] = field(default_factory=dict)
    indexed_accounts: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise CopyError(f"there is no database at {path}")
    # Used from the default executor's threads, one call at a time.
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    return conn


def _data_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [r["name"] for r in rows if str(r["sql"] or "").upper().startswith("CREATE VIRTUAL")]
    shadows = {v + suffix for v in virtual for suffix in FTS_SHADOW_SUFFIXES}
    return sorted(
        r["name"]
        for r in rows
        if not r["name"].startswith(BOOKKEEPING_PREFIXES)
        and r["name"] not in virtual
        and r["name"] not in shadows
    )


def plan(conn: sqlite3.Connection) -> list[Table]:
    """The data tables in an order that satisfies their foreign keys, with the columns whose
    references the order cannot satisfy deferred to a second pass."""
    names = _data_tables(conn)
    columns: dict[str, list[sqlite3.Row]] = {
        n: conn.execute(f'PRAGMA table_info("{n}")').fetchall() for n in names
    }
    references: dict[str, list[tuple[str, str]]] = {
        n: [(r["from"], r["table"]) for r in conn.execute(f'PRAGMA foreign_key_list("{n}")')]
        for n in names
    }
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for _, target in references[name]:
            if target in columns and target != name:
                visit(target)
        visiting.discard(name)
        order.append(name)

    for name in names:
        visit(name)
    tables = []
    for name in order:
        before = set(order[: order.index(name)])
        deferred = [col for col, target in references[name] if target not in before]
        info = columns[name]
        for col in deferred:
            if any(c["name"] == col and c["notnull"] for c in info):
                raise CopyError(f"{name}.{col} refers ahead and cannot be NULL for a while")
        key = [c["name"] for c in sorted(info, key=lambda c: c["pk"]) if c["pk"]]
        if deferred and not key:
            raise CopyError(f"{name} has references to fill in later but no primary key")
        tables.append(Table(name, [c["name"] for c in info], deferred, key))
    return tables


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _chunks(conn: sqlite3.Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    cursor = conn.execute(f"SELECT * FROM {_quoted(table.name)} ORDER BY rowid")
    while rows := cursor.fetchmany(CHUNK):
        yield [dict(row) for row in rows]


def _insert_sql(table: Table) -> str:
    cols = ", ".join(_quoted(c) for c in table.columns)
    values = ", ".join(f":c{i}" for i in range(len(table.columns)))
    return f"INSERT INTO {_quoted(table.name)} ({cols}) VALUES ({values})"


def _update_sql(table: Table) -> str:
    sets = ", ".join(f"{_quoted(c)} = :d{i}" for i, c in enumerate(table.deferred))
    where = " AND ".join(f"{_quoted(k)} = :k{i}" for i, k in enumerate(table.key))
    return f"UPDATE {_quoted(table.name)} SET {sets} WHERE {where}"


async def _target_is_empty(target: Database, tables: Sequence[Table]) -> None:
    for table in tables:
        if await target.fetch_one(f"SELECT 1 AS x FROM {_quoted(table.name)} LIMIT 1"):
            raise CopyError(
                f"the target database is not empty (table {table.name} has rows):"
                " copy into a new, migrated database only"
            )


async def copy_sqlite(
    source: Path,
    target: Database,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> CopyReport:
    """Copy every data row of the SQLite file `source` into `target` (migrated, empty)."""
    conn = await asyncio.to_thread(_connect, source)
    try:
        return await _copy(conn, target, progress)
    finally:
        await asyncio.to_thread(conn.close)


async def _copy(
    conn: sqlite3.Connection, target: Database, progress: Callable[[str], None]
) -> CopyReport:
    tables = await asyncio.to_thread(plan, conn)
    await _target_is_empty(target, tables)
    version_before = await asyncio.to_thread(_data_version, conn)
    await asyncio.to_thread(conn.execute, "BEGIN")  # one snapshot for the whole copy
    report = CopyReport()
    for table in tables:
        count = 0
        insert = _insert_sql(table)
        chunks = _chunks(conn, table)
        while rows := await asyncio.to_thread(next, chunks, None):
            statements = [
                (
                    insert,
                    {
                        f"c{i}": (None if c in table.deferred else row[c])
                        for i, c in enumerate(table.columns)
                    },
                )
                for row in rows
            ]
            async with target.transaction() as tx:
                await tx.execute_batch(statements)
            count += len(rows)
        report.counts[table.name] = count
        progress(f"{table.name}: {count} rows")
    for table in tables:
        if table.deferred:
            await _fill_deferred(conn, target, table)
    await asyncio.to_thread(conn.execute, "COMMIT")
    if await asyncio.to_thread(_data_version, conn) != version_before:
        raise CopyError(
            "the SQLite database changed during the copy: stop every gapo process, empty the"
            " target database and copy again"
        )
    report.indexed_accounts = await _rebuild_search(target, progress)
    await _verify(target, report)
    return report


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


async def _fill_deferred(conn: sqlite3.Connection, target: Database, table: Table) -> None:
    update = _update_sql(table)
    chunks = _chunks(conn, table)
    while rows := await asyncio.to_thread(next, chunks, None):
        statements = [
            (
                update,
                {
                    **{f"d{i}": row[c] for i, c in enumerate(table.deferred)},
                    **{f"k{i}": row[k] for i, k in enumerate(table.key)},
                },
            )
            for row in rows
            if any(row[c] is not None for c in table.deferred)
        ]
        if statements:
            async with target.transaction() as tx:
                await tx.execute_batch(statements)


async def _rebuild_search(target: Database, progress: Callable[[str], None]) -> int:
    """The search index from the copied rows, by the index's own writers."""
    done = 0
    after = -1
    while True:
        rows = await target.fetch_all(
            "SELECT id, local FROM accounts WHERE id > :after ORDER BY id LIMIT :n",
            {"after": after, "n": CHUNK},
        )
        if not rows:
            break
        async with target.transaction() as tx:
            for row in rows:
                await search_index.index_account(tx, int(row["id"]))
                if row["local"]:
                    await search_index.reindex_account_posts(tx, int(row["id"]))
        done += len(rows)
        after = int(rows[-1]["id"])
    progress(f"search index rebuilt for {done} accounts")
    return done


async def _verify(target: Database, report: CopyReport) -> None:
    wrong = []
    for name, count in report.counts.items():
        copied = int(await target.fetch_value(f"SELECT COUNT(*) AS n FROM {_quoted(name)}"))
        if copied != count:
            wrong.append(f"{name}: {count} in the source, {copied} in the target")
    if wrong:
        raise CopyError("row counts differ after the copy: " + "; ".join(wrong))
