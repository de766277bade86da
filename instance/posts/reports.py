"""Reports: the one writer of a report, whether a person here files it or a peer's `Flag`
brings it, and the notification that tells a reporter here it was handled.

A person reports an account, optionally with some of its posts (only posts they may see
and that are the account's) and a comment. A report about a remote account may be
forwarded to its server as a `Flag` from the instance actor (`outbound/to_ap/reports.py`),
which names the account and posts but never the reporter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import hosts as hosts_q
from instance.db import posts as posts_q
from instance.db import reports as reports_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import N_, NotFound, ValidationFailed
from instance.ids import IdGenerator, now
from instance.notifications.writer import Notifier
from instance.outbound.outbox import Outbox
from instance.outbound.to_ap.reports import flag
from instance.posts.visibility import can_see
from instance.urls import LocalUrls

COMMENT_MAX = 1000
MAX_POSTS = 20


class ReportWriter:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        urls: LocalUrls,
        outbox: Outbox,
        notifications: Notifier,
        instance_actor_id: int,
    ) -> None:
        self.db = db
        self.ids = ids
        self.urls = urls
        self.outbox = outbox
        self.notifications = notifications
        self.instance_actor_id = instance_actor_id

    async def file(
        self,
        reporter: Row,
        target_account_id: int,
        post_ids: Sequence[int],
        comment: str,
        *,
        forward: bool = False,
    ) -> int:
        """A local person's report; returns its id. Forwarded when asked and remote."""
        text = comment.strip()
        if len(text) > COMMENT_MAX:
            raise ValidationFailed(
                N_("The comment is too long (at most %(max)d characters)."),
                field="comment",
                max=COMMENT_MAX,
            )
        target = await accounts_q.get_by_id(self.db, target_account_id)
        if target is None or target["ap_type"] == "Application" or target["id"] == reporter["id"]:
            raise NotFound()
        posts = []
        for post_id in list(dict.fromkeys(post_ids))[:MAX_POSTS]:
            post = await posts_q.get(self.db, post_id)
            # Only the account's own posts, and only those the reporter may see: a report
            # is no way to learn whether a private post exists.
            if post is None or post["account_id"] != target["id"]:
                raise NotFound()
            if not await can_see(self.db, reporter["id"], post):
                raise NotFound()
            posts.append(post)
        report_id = self.ids.next_id()
        ts = now()
        forwarded = forward and not target["local"] and bool(target["ap_inbox"])
        async with self.db.transaction() as tx:
            await reports_q.insert(
                tx,
                {
                    "id": report_id,
                    "reporter_account_id": reporter["id"],
                    "target_account_id": target["id"],
                    "post_ids_json": json.dumps([p["id"] for p in posts]),
                    "comment": text,
                    "ap_id": None,
                    "forwarded_at": ts if forwarded else None,
                    "created_at": ts,
                },
            )
            if forwarded:
                document = flag(
                    self.urls,
                    report_id,
                    str(target["ap_id"]),
                    [str(p["ap_id"]) for p in posts if p["ap_id"]],
                    text,
                )
                await self.outbox.to_accounts(
                    tx,
                    signer_account_id=self.instance_actor_id,
                    activity=document,
                    accounts=[target],
                )
        return report_id

    async def receive_flag(
        self, sender: Row, ap_id: str | None, objects: list[str], comment: str
    ) -> bool:
        """A peer's Flag about accounts here: one report per local account it names, with
        the named posts that are that account's. False when it names no one here (or was
        received before)."""
        db = self.db
        if await hosts_q.rejects_reports(db, str(sender["domain"])):
            return False
        local_accounts: dict[int, Row] = {}
        post_ids: dict[int, list[int]] = {}
        for object_id in objects[:50]:
            username = self.urls.parse_actor(object_id)
            if username is not None:
                account = await accounts_q.get_local_by_username(db, username)
                if account is not None and account["ap_type"] == "Person":
                    local_accounts[account["id"]] = account
                continue
            post = await posts_q.get_by_ap_id(db, object_id)
            if post is not None and post["local"]:
                post_ids.setdefault(int(post["account_id"]), []).append(int(post["id"]))
        if not local_accounts:
            return False
        added = False
        ts = now()
        async with self.db.transaction() as tx:
            for index, account_id in enumerate(sorted(local_accounts)):
                report_ap_id = ap_id if index == 0 or ap_id is None else f"{ap_id}#{index}"
                added |= await reports_q.insert(
                    tx,
                    {
                        "id": self.ids.next_id(),
                        "reporter_account_id": sender["id"],
                        "target_account_id": account_id,
                        "post_ids_json": json.dumps(post_ids.get(account_id, [])),
                        "comment": comment[:COMMENT_MAX],
                        "ap_id": report_ap_id,
                        "forwarded_at": None,
                        "created_at": ts,
                    },
                )
        return added

    async def resolved(self, ex: Executor, report: Row) -> None:
        """Tells a local reporter, in `ex`'s transaction, that the report was handled."""
        if report["reporter_account_id"] is None or not report["reporter_local"]:
            return
        await self.notifications.notify(
            ex,
            recipient=int(report["reporter_account_id"]),
            kind="report_resolved",
            from_account_id=self.instance_actor_id,
        )
