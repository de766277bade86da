"""Applying the migrations to PostgreSQL: the same versioned history as SQLite's.

The history is the one of `migrations/` (ids and order read by yoyo, as for SQLite). Each
migration runs as one PostgreSQL transaction (DDL is transactional there), recorded in
`gapo_migrations` in that same transaction, so a failed one leaves nothing behind and a
second run applies only what is missing. SQL differs only where it must:

- `migrations/postgresql/<id>.sql`, when it exists, replaces the migration of that id
  (the Python migrations that fill tables, FTS5 against tsvector, SQLite's table rebuild);
- otherwise the migration's own SQL statements run, with SQLite's REAL (8 bytes there)
  read as DOUBLE PRECISION.

A session advisory lock serialises `gapo migrate` across processes and machines; processes
of the previous version keep serving meanwhile (every migration adds; none rewrites what
running code reads, the same rule as for SQLite).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import asyncpg
from yoyo import read_migrations

from instance.db.postgres import reachable

# pg_advisory_lock's key for "a migration is running" (any fixed 64-bit number: "gapo mig").
LOCK_KEY = 0x6761706F6D6967
_REAL = re.compile(r"\bREAL\b", re.IGNORECASE)


class MigrationError(RuntimeError):
    """A migration cannot be applied to PostgreSQL as written."""


def postgresql_dir(migrations_dir: Path) -> Path:
    return migrations_dir / "postgresql"


def _script(migration: Any, overrides: Path) -> str:
    """The SQL that applies `migration` to PostgreSQL."""
    ident: str = migration.id
    override = overrides / f"{ident}.sql"
    if override.exists():
        return override.read_text()
    migration.load()
    statements = []
    for step in migration.steps:
        apply = step.step._apply  # yoyo's step: a wrapped MigrationStep holding SQL or code
        if not isinstance(apply, str):
            raise MigrationError(
                f"migration {ident} runs Python: it needs {override.name} in {overrides}"
            )
        statements.append(_REAL.sub("DOUBLE PRECISION", apply))
    return ";\n".join(statements)


def _history(migrations_dir: Path) -> list[Any]:
    return sorted(read_migrations(str(migrations_dir)), key=lambda m: m.id)


async def _applied(conn: asyncpg.Connection) -> set[str]:
    exists = await conn.fetchval("SELECT to_regclass('gapo_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["id"] for r in await conn.fetch("SELECT id FROM gapo_migrations")}


async def apply_postgresql(dsn: str, migrations_dir: Path) -> list[str]:
    """Applies what is missing; the ids applied, in order."""
    history = _history(migrations_dir)
    overrides = postgresql_dir(migrations_dir)
    with reachable():
        conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS gapo_migrations"
                " (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
            )
            done = await _applied(conn)
            applied: list[str] = []
            for migration in history:
                ident: str = migration.id
                if ident in done:
                    continue
                script = _script(migration, overrides)
                async with conn.transaction():
                    await conn.execute(script)
                    await conn.execute(
                        "INSERT INTO gapo_migrations (id, applied_at) VALUES ($1, $2)",
                        ident,
                        int(time.time()),
                    )
                applied.append(ident)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def pending_postgresql(dsn: str, migrations_dir: Path) -> list[str]:
    """The ids not applied yet (all of them for an empty database)."""
    with reachable():
        conn = await asyncpg.connect(dsn)
    try:
        done = await _applied(conn)
    finally:
        await conn.close()
    return [m.id for m in _history(migrations_dir) if m.id not in done]
