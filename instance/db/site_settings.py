"""Queries on `site_settings`: the instance's own settings, changed from the admin pages."""

from __future__ import annotations

from instance.db.executor import Executor


async def all_values(ex: Executor) -> dict[str, str]:
    rows = await ex.fetch_all("SELECT name, value FROM site_settings")
    return {str(r["name"]): str(r["value"]) for r in rows}


async def put(ex: Executor, name: str, value: str, now: int) -> None:
    await ex.execute(
        "INSERT INTO site_settings (name, value, updated_at) VALUES (:n, :v, :now)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        {"n": name, "v": value, "now": now},
    )


async def get(ex: Executor, name: str) -> str | None:
    row = await ex.fetch_one("SELECT value FROM site_settings WHERE name = :n", {"n": name})
    return None if row is None else str(row["value"])
