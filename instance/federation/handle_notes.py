"""Inbox handlers for Create, Update and Delete (notes and actors)."""

from __future__ import annotations

from typing import Any

from activitypub.fetch import FetchError
from activitypub.vocab import (
    Activity,
    VocabError,
    origin_of,
    parse_actor,
)
from instance.federation.context import FederationContext
from instance.federation.from_ap.embedded import is_actor_document
from instance.federation.notes_in import NoteIgnored, NoteRejected
from instance.posts.writes import Row


async def _object_document(ctx: FederationContext, activity: Activity) -> dict[str, Any] | None:
    """The embedded object, or the referenced one fetched from its origin."""
    if isinstance(activity.object, dict):
        return activity.object
    if activity.object_id:
        try:
            return await ctx.actors.fetch_document(activity.object_id)
        except FetchError:
            return None
    return None


async def handle_create(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    doc = await _object_document(ctx, activity)
    if doc is None:
        return "ignored: object unavailable"
    if is_actor_document(doc):
        return "ignored: Create of an actor"
    try:
        post = await ctx.notes.ingest(doc, author=actor)
    except NoteRejected as exc:
        return f"rejected: {exc}"
    return f"stored post {post['id']}"


async def handle_update(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    doc = await _object_document(ctx, activity)
    if doc is None:
        return "ignored: object unavailable"
    if is_actor_document(doc):
        if doc.get("id") != actor["ap_id"]:
            return "rejected: an actor may only update itself"
        try:
            await ctx.actors.store(parse_actor(doc))
        except VocabError as exc:
            return f"rejected: {exc}"
        return "actor updated"
    try:
        post = await ctx.notes.update(doc, actor["ap_id"])
    except NoteRejected as exc:
        return f"rejected: {exc}"
    except NoteIgnored as exc:
        return f"ignored: {exc}"
    return "post updated" if post else "ignored: unknown post"


async def handle_delete(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    object_id = activity.object_id
    if not object_id or origin_of(object_id) != origin_of(actor["ap_id"]):
        return "rejected: object on another host"
    writer = ctx.notes.writer
    if object_id == actor["ap_id"]:
        # The actor deleted itself: remove what it left here. Both steps are idempotent,
        # so a retried job after a crash between them finishes the work.
        await ctx.relationship_writer.forget_actor(actor)
        await writer.remove_actor(actor)
        return "actor removed"
    post = await writer.by_ap_id(object_id)
    if post is None or post["account_id"] != actor["id"]:
        return "ignored: unknown post"
    if not await writer.delete(post):
        return "ignored: already deleted"
    return "post deleted"
