"""Queries on `hosts`: per-remote-host delivery health, signature standard, domain blocks."""

from __future__ import annotations

from collections.abc import Collection

from instance.db.executor import Executor
from instance.db.rows import HostRow


async def get(ex: Executor, domain: str) -> HostRow | None:
    return await ex.fetch_one(
        "SELECT domain, health_json, signature_scheme, blocked, updated_at FROM hosts"
        " WHERE domain = :d",
        {"d": domain.lower()},
    )


async def get_many(ex: Executor, domains: Collection[str]) -> list[HostRow]:
    """The rows of several hosts in one read (a delivery lane's batch spans many hosts)."""
    names = sorted({d.lower() for d in domains})
    if not names:
        return []
    params = {f"d{i}": name for i, name in enumerate(names)}
    placeholders = ", ".join(f":d{i}" for i in range(len(names)))
    return await ex.fetch_all(
        "SELECT domain, health_json, signature_scheme, blocked, updated_at FROM hosts"
        f" WHERE domain IN ({placeholders})",
        params,
    )


async def _ensure(ex: Executor, domain: str, now: int) -> None:
    await ex.execute(
        "INSERT INTO hosts (domain, health_json, blocked, updated_at) VALUES (:d, '{}', 0, :now)"
        " ON CONFLICT (domain) DO NOTHING",
        {"d": domain.lower(), "now": now},
    )


async def set_health(ex: Executor, domain: str, health_json: str, now: int) -> None:
    await _ensure(ex, domain, now)
    await ex.execute(
        "UPDATE hosts SET health_json = :h, updated_at = :now WHERE domain = :d",
        {"d": domain.lower(), "h": health_json, "now": now},
    )


async def set_signature_scheme(ex: Executor, domain: str, scheme: str, now: int) -> None:
    await _ensure(ex, domain, now)
    await ex.execute(
        "UPDATE hosts SET signature_scheme = :s, updated_at = :now WHERE domain = :d",
        {"d": domain.lower(), "s": scheme, "now": now},
    )


async def set_blocked(ex: Executor, domain: str, blocked: bool, now: int) -> None:
    await _ensure(ex, domain, now)
    await ex.execute(
        "UPDATE hosts SET blocked = :b, updated_at = :now WHERE domain = :d",
        {"d": domain.lower(), "b": 1 if blocked else 0, "now": now},
    )


async def is_blocked(ex: Executor, domain: str) -> bool:
    row = await ex.fetch_one("SELECT blocked FROM hosts WHERE domain = :d", {"d": domain.lower()})
    return bool(row and row["blocked"])
