"""Inbox handlers for Block and the Undo of a Block.

Both call the one writer of the action (`relationships/writes.py`), as the web forms do.
"""

from __future__ import annotations

from typing import Any

from activitypub.vocab import Activity, id_of
from instance.federation.context import FederationContext
from instance.relationships import AccountRow


async def handle_block(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    target = await ctx.relationships.local_account(ctx.urls.parse_actor(activity.object_id or ""))
    if target is None:
        return "ignored: unknown account"
    await ctx.relationship_writer.block(actor, target, block_ap_id=activity.id)
    return "blocked"


async def undo_block(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: AccountRow
) -> str | None:
    """Undo of a Block naming a local account; None when it names no one here."""
    if not isinstance(inner, dict):
        return None
    target = await ctx.relationships.local_account(
        ctx.urls.parse_actor(id_of(inner.get("object")) or "")
    )
    if target is None:
        return None
    await ctx.relationship_writer.unblock(actor, target)
    return "unblocked"
