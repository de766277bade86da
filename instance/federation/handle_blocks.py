"""Inbox handlers for Block and the Undo of a Block."""

from __future__ import annotations

from typing import Any

from activitypub.vocab import Activity, id_of
from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.federation.context import FederationContext
from instance.ids import now


async def handle_block(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    username = ctx.urls.parse_actor(activity.object_id or "")
    target = await accounts_q.get_local_by_username(ctx.db, username) if username else None
    if target is None:
        return "ignored: unknown account"
    async with ctx.db.transaction() as tx:
        await blocks_q.add(
            tx,
            block_id=ctx.ids.next_id(),
            account_id=actor["id"],
            target_id=target["id"],
            ap_id=activity.id,
            now=now(),
        )
        # A block ends follows both ways.
        await follows_q.delete(tx, actor["id"], target["id"])
        await follows_q.delete(tx, target["id"], actor["id"])
    return "blocked"


async def undo_block(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: Row
) -> str | None:
    """Undo of a Block naming a local account; None when it names no one here."""
    if not isinstance(inner, dict):
        return None
    username = ctx.urls.parse_actor(id_of(inner.get("object")) or "")
    target = await accounts_q.get_local_by_username(ctx.db, username) if username else None
    if target is None:
        return None
    await blocks_q.remove(ctx.db, actor["id"], target["id"])
    return "unblocked"
