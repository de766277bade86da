"""Inbox handlers for Like (and EmojiReact), Announce, and the Undo of either."""

from __future__ import annotations

from typing import Any

from activitypub.fetch import FetchError
from activitypub.vocab import (
    ACTIVITY_TYPES,
    Activity,
    classify,
    id_of,
    primary_type,
)
from instance.federation.context import FederationContext
from instance.federation.from_ap.embedded import trusted_embedded
from instance.federation.notes_in import NoteRejected
from instance.posts.writes import Row, shareable


async def handle_like(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    """Like, and Pleroma/Akkoma's EmojiReact, which is kept as a like.

    Mastodon ignores EmojiReact and favourites a Misskey Like whatever its
    `_misskey_reaction`; Misskey takes an EmojiReact as a reaction. Here a reaction of
    any emoji counts as a like; an actor's second reaction to a post changes nothing.
    """
    writer = ctx.notes.writer
    post = await writer.find(activity.object_id)
    # A like of a post the actor may not see is dropped: counts must not leak existence.
    if post is None or not await writer.can_see(actor["id"], post):
        return "ignored: unknown post"
    await writer.react(actor, post, "likes", ap_id=activity.id)
    return "liked"


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
    post = await ctx.notes.writer.find(object_id)
    if post is not None:
        return post
    if ctx.urls.is_local(object_id):
        return "ignored: unknown post"
    # The fetcher checks that a fetched document's id is on the origin it came from.
    doc = trusted_embedded(obj, actor["ap_id"])
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
    if not shareable(post) or not await ctx.notes.writer.can_see(actor["id"], post):
        return "ignored: not shareable"
    await ctx.notes.writer.react(actor, post, "shares", ap_id=activity.id)
    return "shared"


# (table, the activity types that add a row there)
UNDOABLE_REACTIONS = (
    ("likes", ("Like", "EmojiReact")),
    ("shares", ("Announce",)),
)


async def undo_reaction(
    ctx: FederationContext, inner: Any, inner_type: str | None, actor: Row
) -> str | None:
    """Undo of a Like, EmojiReact or Announce; None when no such reaction is known."""
    writer = ctx.notes.writer
    inner_id = id_of(inner)
    for kind, types in UNDOABLE_REACTIONS:
        if inner_type is not None and inner_type not in types:
            continue
        row = await writer.reaction_by_ap_id(kind, inner_id) if inner_id else None
        # An actor may react with several emoji but holds one like: only the reaction
        # that made it can take it back.
        if row is None and isinstance(inner, dict) and inner_type != "EmojiReact":
            post = await writer.find(id_of(inner.get("object")))
            row = await writer.reaction(kind, actor["id"], post["id"]) if post else None
        if row is not None and row["account_id"] == actor["id"]:
            await writer.unreact(actor, int(row["post_id"]), kind)
            return f"undid {kind}"
    return None
