"""Queries on `reports`: a person's or a peer's report about an account and its posts."""

from __future__ import annotations

from typing import Any

from instance.db.executor import Executor
from instance.db.rows import ReportRow

REPORT = (
    "SELECT r.id, r.reporter_account_id, r.target_account_id, r.post_ids_json, r.comment,"
    " r.ap_id, r.forwarded_at, r.resolved_at, r.resolved_by, r.resolution, r.created_at,"
    " t.username AS target_username, t.domain AS target_domain, t.local AS target_local,"
    " rp.username AS reporter_username, rp.domain AS reporter_domain,"
    " rp.local AS reporter_local, rp.ap_type AS reporter_type"
    " FROM reports r JOIN accounts t ON t.id = r.target_account_id"
    " LEFT JOIN accounts rp ON rp.id = r.reporter_account_id"
)


async def insert(ex: Executor, values: dict[str, Any]) -> bool:
    """False when a report with the same `ap_id` (a peer's Flag sent again) exists."""
    changed = await ex.execute(
        "INSERT INTO reports (id, reporter_account_id, target_account_id, post_ids_json,"
        " comment, ap_id, forwarded_at, created_at) VALUES (:id, :reporter_account_id,"
        " :target_account_id, :post_ids_json, :comment, :ap_id, :forwarded_at, :created_at)"
        " ON CONFLICT DO NOTHING",
        values,
    )
    return changed > 0


async def get(ex: Executor, report_id: int) -> ReportRow | None:
    return await ex.fetch_one(f"{REPORT} WHERE r.id = :id", {"id": report_id})


async def page(
    ex: Executor, *, resolved: bool, limit: int, max_id: int | None = None
) -> list[ReportRow]:
    state = "r.resolved_at IS NOT NULL" if resolved else "r.resolved_at IS NULL"
    return await ex.fetch_all(
        f"{REPORT} WHERE {state} AND (:max_id IS NULL OR r.id < :max_id)"
        " ORDER BY r.id DESC LIMIT :limit",
        {"max_id": max_id, "limit": limit},
    )


async def resolve(ex: Executor, report_id: int, *, by: int, resolution: str, now: int) -> bool:
    changed = await ex.execute(
        "UPDATE reports SET resolved_at = :now, resolved_by = :by, resolution = :res"
        " WHERE id = :id AND resolved_at IS NULL",
        {"id": report_id, "by": by, "res": resolution, "now": now},
    )
    return changed > 0
