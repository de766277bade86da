"""Inbox handlers for Like, Announce, Undo and Block."""

from __future__ import annotations

from activitypub.fetch import FetchError
from activitypub.vocab import Activity, id_of
from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db.connection import Row
from instance.federation.context import FederationContext
from instance.federation.notes_in import NoteRejected
from instance.ids import now
from instance.posts.visibility import can_see


async def _known_post(ctx: FederationContext, object_id: str | None) -> Row | None:
    if not object_id:
        return None
    local_id = ctx.urls.parse_note(object_id)
    if local_id is not None:
        return await posts_q.get(ctx.db, local_id)
    return await posts_q.get_by_ap_id(ctx.db, object_id)


async def handle_like(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    post = await _known_post(ctx, activity.object_id)
    # A like of a post the actor may not see is dropped: counts must not leak existence.
    if post is None or not await can_see(ctx.db, actor["id"], post):
        return "ignored: unknown post"
    async with ctx.db.transaction() as tx:
        if await reactions_q.add(
            tx,
            "likes",
            row_id=ctx.ids.next_id(),
            account_id=actor["id"],
            post_id=post["id"],
            ap_id=activity.id,
            now=now(),
        ):
            await posts_q.bump_count(tx, post["id"], "likes_count", 1)
            await ctx.notifications.notify(
                tx,
                recipient=post["account_id"],
                kind="like",
                from_account_id=actor["id"],
                post_id=post["id"],
            )
    return "liked"


async def handle_announce(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    post = await _known_post(ctx, activity.object_id)
    if post is None and activity.object_id:
        # Never trust an embedded copy: the shared note is fetched from its own origin.
        try:
            post = await ctx.notes.ingest(await ctx.actors.fetch_document(activity.object_id))
        except (FetchError, NoteRejected) as exc:
            return f"ignored: {exc}"
    if post is None or post["visibility"] not in ("public", "unlisted"):
        return "ignored: not shareable"
    async with ctx.db.transaction() as tx:
        if await reactions_q.add(
            tx,
            "shares",
            row_id=ctx.ids.next_id(),
            account_id=actor["id"],
            post_id=post["id"],
            ap_id=activity.id,
            now=now(),
        ):
            await posts_q.bump_count(tx, post["id"], "shares_count", 1)
            await ctx.notifications.notify(
                tx,
                recipient=post["account_id"],
                kind="share",
                from_account_id=actor["id"],
                post_id=post["id"],
            )
    return "shared"


async def handle_undo(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    inner = activity.object
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    inner_id = id_of(inner)
    if isinstance(inner, dict) and id_of(inner.get("actor")) not in (None, actor["ap_id"]):
        return "rejected: undo of another actor's activity"
    if inner_type == "Follow" or (inner_id and await follows_q.get_by_ap_id(ctx.db, inner_id)):
        target_id = id_of(inner.get("object")) if isinstance(inner, dict) else None
        username = ctx.urls.parse_actor(target_id or "")
        followee = await accounts_q.get_local_by_username(ctx.db, username) if username else None
        if followee is None and inner_id:
            row = await follows_q.get_by_ap_id(ctx.db, inner_id)
            followee = await accounts_q.get_by_id(ctx.db, row["followee_id"]) if row else None
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
    for kind, column in (("likes", "likes_count"), ("shares", "shares_count")):
        if inner_type not in (None, "Like" if kind == "likes" else "Announce"):
            continue
        row = await reactions_q.get_by_ap_id(ctx.db, kind, inner_id) if inner_id else None
        if row is None and isinstance(inner, dict):
            post = await _known_post(ctx, id_of(inner.get("object")))
            row = await reactions_q.get(ctx.db, kind, actor["id"], post["id"]) if post else None
        if row is not None and row["account_id"] == actor["id"]:
            async with ctx.db.transaction() as tx:
                if await reactions_q.remove(tx, kind, actor["id"], row["post_id"]):
                    await posts_q.bump_count(tx, row["post_id"], column, -1)
                post_row = await posts_q.get(tx, row["post_id"])
                if post_row is not None:
                    await ctx.notifications.withdraw(
                        tx,
                        recipient_id=post_row["account_id"],
                        kinds=("like" if kind == "likes" else "share",),
                        from_account_id=actor["id"],
                        post_id=row["post_id"],
                    )
            return f"undid {kind}"
    if inner_type == "Block":
        username = (
            ctx.urls.parse_actor(id_of(inner.get("object")) or "")
            if isinstance(inner, dict)
            else None
        )
        target = await accounts_q.get_local_by_username(ctx.db, username) if username else None
        if target is not None:
            await blocks_q.remove(ctx.db, actor["id"], target["id"])
            return "unblocked"
    return "ignored: nothing to undo"


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
