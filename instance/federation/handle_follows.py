"""Inbox handlers for Follow, Accept, Reject and the Undo of a Follow."""

from __future__ import annotations

from typing import Any

from activitypub.vocab import Activity, id_of
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.federation.context import FederationContext
from instance.ids import now


async def handle_follow(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    username = ctx.urls.parse_actor(activity.object_id or "")
    if username is None:
        return "ignored: not a local actor"
    target = await accounts_q.get_local_by_username(ctx.db, username)
    if target is None or target["suspended_at"] is not None:
        return "ignored: no such account"
    if not activity.id:
        return "rejected: a Follow needs an id"
    state = await ctx.relationships.receive_follow(actor, target, activity.id)
    return f"follow {state}"


async def _our_follow(ctx: FederationContext, activity: Activity, actor: Row) -> Row | None:
    """The local follow an Accept/Reject answers: by the Follow's id, else by its fields."""
    obj = activity.object
    follow_id = id_of(obj)
    row = await follows_q.get_by_ap_id(ctx.db, follow_id) if follow_id else None
    if row is None and isinstance(obj, dict):
        username = ctx.urls.parse_actor(id_of(obj.get("actor")) or "")
        if username is not None:
            follower = await accounts_q.get_local_by_username(ctx.db, username)
            if follower is not None:
                row = await follows_q.get_follow(ctx.db, follower["id"], actor["id"])
    # Only the followed account may answer the follow.
    if row is None or row["followee_id"] != actor["id"]:
        return None
    return row


async def handle_accept(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    row = await _our_follow(ctx, activity, actor)
    if row is None:
        return "ignored: unknown follow"
    await follows_q.accept(ctx.db, row["id"], now())
    return "follow accepted"


async def handle_reject(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    row = await _our_follow(ctx, activity, actor)
    if row is None:
        # A Reject can also end an accepted follow that the remote side removed.
        return "ignored: unknown follow"
    await ctx.relationships.remove(row["follower_id"], row["followee_id"])
    return "follow rejected"


async def undo_follow(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: Row
) -> str | None:
    """Undo of a Follow (named by type, or by the id of a follow we hold); None otherwise."""
    inner_id = id_of(inner)
    known = await follows_q.get_by_ap_id(ctx.db, inner_id) if inner_id else None
    if inner_type != "Follow" and known is None:
        return None
    target_id = id_of(inner.get("object")) if isinstance(inner, dict) else None
    username = ctx.urls.parse_actor(target_id or "")
    followee = await accounts_q.get_local_by_username(ctx.db, username) if username else None
    if followee is None and known is not None:
        followee = await accounts_q.get_by_id(ctx.db, known["followee_id"])
    if followee is None:
        return "ignored: unknown follow"
    async with ctx.db.transaction() as tx:
        await follows_q.delete(tx, actor["id"], followee["id"])
        await ctx.notifications.withdraw(
            tx,
            recipient_id=followee["id"],
            kinds=("follow", "follow_request"),
            from_account_id=actor["id"],
        )
    return "unfollowed"
