"""Inbox handler for Flag: a peer's report about accounts here joins the report queue.

Mastodon sends a Flag from its instance actor, naming the reported account and posts in
`object` and the comment in `content`. A domain blocked with `reject_reports` is ignored.
"""

from __future__ import annotations

from activitypub.vocab import Activity, ids_of
from instance.federation.context import FederationContext
from instance.relationships import AccountRow


async def handle_flag(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    if ctx.reports is None:
        return "ignored: reports are not received here"
    content = activity.raw.get("content")
    comment = content if isinstance(content, str) else ""
    objects = list(ids_of(activity.object))
    if not await ctx.reports.receive_flag(actor, activity.id, objects, comment):
        return "ignored: names no one here, seen before, or reports from there are rejected"
    return "reported"
