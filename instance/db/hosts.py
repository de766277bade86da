"""Queries on `hosts`: per-remote-host delivery health, signature standard, domain blocks
(with Mastodon's severities and comments, migration 0013), the allowlist (0017)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from instance.db.executor import Executor
from instance.db.rows import DomainBlockRow, HostHealthRow, HostRow


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


async def block_state(ex: Executor, domain: str) -> tuple[bool, bool]:
    """(blocked, allowed) of a host; an unknown host is neither."""
    row = await ex.fetch_one(
        "SELECT blocked, allowed FROM hosts WHERE domain = :d", {"d": domain.lower()}
    )
    return (bool(row["blocked"]), bool(row["allowed"])) if row else (False, False)


async def set_allowed(ex: Executor, domain: str, allowed: bool, now: int) -> None:
    await _ensure(ex, domain, now)
    await ex.execute(
        "UPDATE hosts SET allowed = :a, updated_at = :now WHERE domain = :d",
        {"d": domain.lower(), "a": 1 if allowed else 0, "now": now},
    )


async def list_allowed(ex: Executor) -> list[str]:
    rows = await ex.fetch_all("SELECT domain FROM hosts WHERE allowed = 1 ORDER BY domain")
    return [str(r["domain"]) for r in rows]


BLOCK_COLUMNS = (
    "domain, severity, reject_media, reject_reports, public_comment, private_comment,"
    " obfuscate, updated_at"
)


async def set_block(ex: Executor, domain: str, values: dict[str, Any], now: int) -> None:
    """A domain block's fields (0013); `blocked`, the inbox's switch, follows the severity."""
    await _ensure(ex, domain, now)
    await ex.execute(
        "UPDATE hosts SET severity = :severity, blocked = :blocked, reject_media = :reject_media,"
        " reject_reports = :reject_reports, public_comment = :public_comment,"
        " private_comment = :private_comment, obfuscate = :obfuscate, updated_at = :now"
        " WHERE domain = :d",
        {
            **values,
            "blocked": 1 if values["severity"] == "suspend" else 0,
            "d": domain.lower(),
            "now": now,
        },
    )


async def clear_block(ex: Executor, domain: str, now: int) -> None:
    await ex.execute(
        "UPDATE hosts SET severity = NULL, blocked = 0, reject_media = 0, reject_reports = 0,"
        " public_comment = '', private_comment = '', obfuscate = 0, updated_at = :now"
        " WHERE domain = :d",
        {"d": domain.lower(), "now": now},
    )


async def get_block(ex: Executor, domain: str) -> DomainBlockRow | None:
    return await ex.fetch_one(
        f"SELECT {BLOCK_COLUMNS} FROM hosts WHERE domain = :d"
        " AND (severity IS NOT NULL OR reject_media = 1 OR reject_reports = 1)",
        {"d": domain.lower()},
    )


async def list_blocks(ex: Executor) -> list[DomainBlockRow]:
    return await ex.fetch_all(
        f"SELECT {BLOCK_COLUMNS} FROM hosts"
        " WHERE severity IS NOT NULL OR reject_media = 1 OR reject_reports = 1 ORDER BY domain"
    )


async def rejects_media(ex: Executor, domain: str) -> bool:
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM hosts WHERE domain = :d AND (reject_media = 1 OR blocked = 1)",
        {"d": domain.lower()},
    )
    return row is not None


async def health_list(ex: Executor, *, limit: int) -> list[HostHealthRow]:
    """Hosts with their stored health, the ones heard from or written to last first."""
    return await ex.fetch_all(
        "SELECT domain, health_json, severity, updated_at FROM hosts"
        " ORDER BY updated_at DESC, domain LIMIT :limit",
        {"limit": limit},
    )


async def rejects_reports(ex: Executor, domain: str) -> bool:
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM hosts WHERE domain = :d AND reject_reports = 1",
        {"d": domain.lower()},
    )
    return row is not None
