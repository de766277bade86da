"""Inbox handlers for Follow, Accept, Reject and the Undo of a Follow.

Each finds the accounts the activity names and calls the one writer of the action
(`relationships/writes.py`), the same one the web forms call.
"""

from __future__ import annotations

from typing import Any

from activitypub.vocab import Activity, id_of
from instance.federation.context import FederationContext
from instance.relationships import AccountRow, FollowRow


async def handle_follow(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    target = await ctx.relationships.local_account(ctx.urls.parse_actor(activity.object_id or ""))
    if target is None or target["suspended_at"] is not None:
        return "ignored: no such account"
    if not activity.id:
        return "rejected: a Follow needs an id"
    state = await ctx.relationship_writer.follow(actor, target, follow_ap_id=activity.id)
    return f"follow {state}"


async def _our_follow(
    ctx: FederationContext, activity: Activity, actor: AccountRow
) -> tuple[FollowRow, AccountRow] | None:
    """The local follow an Accept/Reject answers (by the Follow's id, else by its fields),
    with its local follower."""
    obj = activity.object
    row = await ctx.relationships.follow_by_ap_id(id_of(obj))
    if row is None and isinstance(obj, dict):
        username = ctx.urls.parse_actor(id_of(obj.get("actor")) or "")
        follower = await ctx.relationships.local_account(username)
        if follower is not None:
            row = await ctx.relationships.follow_between(follower["id"], actor["id"])
    # Only the followed account may answer the follow.
    if row is None or row["followee_id"] != actor["id"]:
        return None
    follower = await ctx.relationships.account(row["follower_id"])
    return None if follower is None else (row, follower)


async def handle_accept(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    found = await _our_follow(ctx, activity, actor)
    if found is None:
        return "ignored: unknown follow"
    row, follower = found
    # A repeated Accept changes nothing.
    if row["state"] == "pending":
        await ctx.relationship_writer.approve(actor, follower)
    return "follow accepted"


async def handle_reject(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    # A Reject can also end an accepted follow that the remote side removed.
    found = await _our_follow(ctx, activity, actor)
    if found is None:
        return "ignored: unknown follow"
    await ctx.relationship_writer.reject(actor, found[1])
    return "follow rejected"


async def undo_follow(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: AccountRow
) -> str | None:
    """Undo of a Follow (named by type, or by the id of a follow we hold); None otherwise."""
    known = await ctx.relationships.follow_by_ap_id(id_of(inner))
    if inner_type != "Follow" and known is None:
        return None
    target_id = id_of(inner.get("object")) if isinstance(inner, dict) else None
    followee = await ctx.relationships.local_account(ctx.urls.parse_actor(target_id or ""))
    if followee is None and known is not None:
        followee = await ctx.relationships.account(known["followee_id"])
    if followee is None:
        return "ignored: unknown follow"
    await ctx.relationship_writer.unfollow(actor, followee)
    return "unfollowed"
