"""The report queue: open and closed reports, one report with what it names, and resolving
it with an action (none, silence, force sensitive, suspend), logged and told to the reporter."""

from __future__ import annotations

import json
from dataclasses import dataclass

from instance.admin.moderation import Moderation, Staff, clean_reason, require
from instance.admin.views import AdminAccountView
from instance.db import Database
from instance.db import moderation as moderation_q
from instance.db import posts as posts_q
from instance.db import reports as reports_q
from instance.db.rows import ReportRow
from instance.errors import N_, NotFound, ValidationFailed
from instance.ids import now
from instance.posts.reports import ReportWriter
from instance.posts.views import PostView, post_view

RESOLUTIONS = ("none", "silence", "force_sensitive", "suspend")
PAGE = 40


@dataclass(frozen=True)
class ReportView:
    id: int
    target: str
    target_account_id: int
    reporter: str  # "@name", "@name@host", or the reporting server for a peer's Flag
    remote_reporter: bool
    comment: str
    post_count: int
    forwarded: bool
    created_at: int
    resolved_at: int | None
    resolution: str | None

    @classmethod
    def of(cls, row: ReportRow) -> ReportView:
        target = f"@{row['target_username']}" + (
            f"@{row['target_domain']}" if row["target_domain"] else ""
        )
        if row["reporter_username"] is None:
            reporter = "—"
        elif row["reporter_type"] == "Application" and row["reporter_domain"]:
            reporter = str(row["reporter_domain"])
        else:
            reporter = f"@{row['reporter_username']}" + (
                f"@{row['reporter_domain']}" if row["reporter_domain"] else ""
            )
        return cls(
            id=row["id"],
            target=target,
            target_account_id=row["target_account_id"],
            reporter=reporter,
            remote_reporter=not row["reporter_local"],
            comment=row["comment"],
            post_count=len(json.loads(row["post_ids_json"] or "[]")),
            forwarded=row["forwarded_at"] is not None,
            created_at=row["created_at"],
            resolved_at=row["resolved_at"],
            resolution=row["resolution"],
        )


@dataclass(frozen=True)
class ReportDetail:
    report: ReportView
    account: AdminAccountView
    posts: tuple[PostView, ...]


class ReportQueue:
    def __init__(self, db: Database, moderation: Moderation, writer: ReportWriter) -> None:
        self.db = db
        self.moderation = moderation
        self.writer = writer

    async def page(
        self, staff: Staff | None, *, resolved: bool, max_id: int | None = None
    ) -> list[ReportView]:
        require(staff, "view")
        rows = await reports_q.page(self.db, resolved=resolved, limit=PAGE, max_id=max_id)
        return [ReportView.of(row) for row in rows]

    async def detail(self, staff: Staff | None, report_id: int) -> ReportDetail:
        """The report with the posts it names: those the reporter could see when filing it
        (checked then), shown to staff whatever their audience, as Mastodon does."""
        require(staff, "view")
        row = await reports_q.get(self.db, report_id)
        if row is None:
            raise NotFound()
        account = await moderation_q.get_account(self.db, row["target_account_id"])
        if account is None:
            raise NotFound()
        posts = []
        for post_id in json.loads(row["post_ids_json"] or "[]"):
            post = await posts_q.get(self.db, int(post_id))
            if post is not None and post["deleted_at"] is None:
                posts.append(post_view(post))
        return ReportDetail(ReportView.of(row), AdminAccountView.of(account), tuple(posts))

    async def resolve(self, staff: Staff | None, report_id: int, action: str, note: str) -> None:
        """Acts on the reported account (unless `none`), closes the report and tells a
        local reporter, in one transaction; the audit log holds the action and the note."""
        staff = require(staff, "moderate")
        if action not in RESOLUTIONS:
            raise ValidationFailed(N_("Unknown action."), field="action")
        why = clean_reason(note)
        async with self.db.transaction() as tx:
            row = await reports_q.get(tx, report_id)
            if row is None:
                raise NotFound()
            if row["resolved_at"] is not None:
                raise ValidationFailed(N_("This report is already resolved."))
            reason = f"report {report_id}: {why}"
            if action != "none":
                await self.moderation.act_in(tx, staff, row["target_account_id"], action, reason)
            else:
                target = await moderation_q.get_account(tx, row["target_account_id"])
                await self.moderation.write_log(tx, staff, "resolve_report", target, reason)
            await reports_q.resolve(
                tx, report_id, by=staff["account_id"], resolution=action, now=now()
            )
            await self.writer.resolved(tx, row)
