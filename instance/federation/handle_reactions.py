"""Inbox handlers for Like (and EmojiReact), Announce, and the Undo of either."""

from __future__ import annotations

from typing import Any

from activitypub.fetch import FetchError
from activitypub.vocab import (
    ACTIVITY_TYPES,
    Activity,
    VocabError,
    attributed_actor_ids,
    classify,
    id_of,
    origin_of,
    primary_type,
)
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
    """Like, and Pleroma/Akkoma's EmojiReact, which is kept as a like.

    Mastodon ignores EmojiReact and favourites a Misskey Like whatever its
    `_misskey_reaction`; Misskey takes an EmojiReact as a reaction. Here a reaction of
    any emoji counts as a like; an actor's second reaction to a post changes nothing.
    """
    post = await _known_post(ctx, activity.object_id)
    # A like of a post the actor may not see is dropped: counts must not leak existence.
    if post is None or not await can_see(ctx.db, actor["id"], post):
        return "ignored: unknown post"
    await _record(ctx, "likes", post, actor, activity)
    return "liked"


async def _record(
    ctx: FederationContext, table: str, post: Row, actor: Row, activity: Activity
) -> None:
    """Store a like or share once (by actor and post), count it and tell the author."""
    column, notice = ("likes_count", "like") if table == "likes" else ("shares_count", "share")
    async with ctx.db.transaction() as tx:
        if await reactions_q.add(
            tx,
            table,
            row_id=ctx.ids.next_id(),
            account_id=actor["id"],
            post_id=post["id"],
            ap_id=activity.id,
            now=now(),
        ):
            await posts_q.bump_count(tx, post["id"], column, 1)
            await ctx.notifications.notify(
                tx,
                recipient=post["account_id"],
                kind=notice,
                from_account_id=actor["id"],
                post_id=post["id"],
            )


def _trusted_embedded(obj: Any, signer_ap_id: str) -> dict[str, Any] | None:
    """An embedded object we may take as sent: one the signer authored, on its own host.

    Anything else (a neighbour's post on the signer's host, a Group's copy of a member's
    post) is fetched from its origin by id, never trusted as relayed.
    """
    object_id = id_of(obj)
    if not isinstance(obj, dict) or object_id is None:
        return None
    if signer_ap_id not in attributed_actor_ids(obj.get("attributedTo")):
        return None
    try:
        same_host = origin_of(object_id) == origin_of(signer_ap_id)
    except VocabError:
        return None
    return obj if same_host else None


async def _shared_post(ctx: FederationContext, activity: Activity, actor: Row) -> Row | str:
    """The post an Announce shares, stored when new; a string says why there is none.

    Groups (Lemmy, Mbin, …) announce their members' activities: `Announce{Create{Page}}`
    shares the Page. Other announced activities (likes, deletes, …) are not shares.
    """
    obj: Any = activity.object
    if isinstance(obj, dict) and classify(obj) == "activity":
        inner_type = primary_type(obj, ACTIVITY_TYPES)
        if inner_type != "Create":
            return f"ignored: announced {inner_type}"
        obj = obj.get("object")
    object_id = id_of(obj)
    if object_id is None:
        return "ignored: nothing shared"
    post = await _known_post(ctx, object_id)
    if post is not None:
        return post
    if ctx.urls.is_local(object_id):
        return "ignored: unknown post"
    # The fetcher checks that a fetched document's id is on the origin it came from.
    doc = _trusted_embedded(obj, actor["ap_id"])
    try:
        if doc is not None:
            return await ctx.notes.ingest(doc, author=actor)
        return await ctx.notes.ingest(await ctx.actors.fetch_document(object_id))
    except (FetchError, NoteRejected) as exc:
        return f"ignored: {exc}"


async def handle_announce(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    post = await _shared_post(ctx, activity, actor)
    if isinstance(post, str):
        return post
    # As for likes: a post the actor may not see (blocked, followers-only, deleted) is
    # not shared by them, and its author hears nothing of it.
    if post["visibility"] not in ("public", "unlisted") or not await can_see(
        ctx.db, actor["id"], post
    ):
        return "ignored: not shareable"
    await _record(ctx, "shares", post, actor, activity)
    return "shared"


# (table, counter, the activity types that add a row there)
UNDOABLE_REACTIONS = (
    ("likes", "likes_count", ("Like", "EmojiReact")),
    ("shares", "shares_count", ("Announce",)),
)


async def undo_reaction(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: Row
) -> str | None:
    """Undo of a Like, EmojiReact or Announce; None when no such reaction is known."""
    inner_id = id_of(inner)
    for kind, column, types in UNDOABLE_REACTIONS:
        if inner_type is not None and inner_type not in types:
            continue
        row = await reactions_q.get_by_ap_id(ctx.db, kind, inner_id) if inner_id else None
        # An actor may react with several emoji but holds one like: only the reaction
        # that made it can take it back.
        if row is None and isinstance(inner, dict) and inner_type != "EmojiReact":
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
    return None
