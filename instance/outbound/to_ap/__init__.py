"""to_ap: rows to ActivityPub documents, the only place that builds one.

This module holds the shared pieces (addressing, the activity envelope) and the note
documents; one submodule per further kind of document: `actors` (Person, the instance
actor), `collections` (outbox, followers, following, featured, replies and their pages),
`times`. Their builders are re-exported here, so callers write ``to_ap.person(...)``.
"""

from __future__ import annotations

from typing import Any

from activitypub.vocab import AS_CONTEXT, NOTE_CONTEXT, PUBLIC
from instance.db.connection import Row
from instance.outbound.to_ap.actors import (
    also_known_as,
    instance_actor,
    instance_actor_name,
    instance_actor_page,
    move,
    person,
)
from instance.outbound.to_ap.collections import (
    PAGE_SIZE,
    collection,
    collection_page,
    ordered_collection,
    ordered_page,
)
from instance.outbound.to_ap.times import iso
from instance.urls import LocalUrls

__all__ = [
    "PAGE_SIZE",
    "activity",
    "addressing",
    "also_known_as",
    "collection",
    "collection_page",
    "delete_actor",
    "instance_actor",
    "instance_actor_name",
    "instance_actor_page",
    "iso",
    "move",
    "note",
    "ordered_collection",
    "ordered_page",
    "person",
    "strip_context",
    "tombstone",
]


def addressing(urls: LocalUrls, post: Row, mentioned: list[str]) -> tuple[list[str], list[str]]:
    """`to` and `cc` for a visibility, as Mastodon reads them."""
    followers = urls.followers(post["username"])
    visibility = post["visibility"]
    if visibility == "public":
        return [PUBLIC], [followers, *mentioned]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *mentioned]
    if visibility == "followers":
        return [followers], list(mentioned)
    return list(mentioned), []


def note(
    urls: LocalUrls,
    post: Row,
    *,
    mentioned: list[str],
    in_reply_to: str | None,
    tags: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    with_context: bool = True,
) -> dict[str, Any]:
    username = post["username"]
    note_id = urls.note(username, post["id"])
    to, cc = addressing(urls, post, mentioned)
    doc: dict[str, Any] = {
        "id": note_id,
        "type": "Note",
        "attributedTo": urls.actor(username),
        "content": post["content_html"],
        "summary": post["summary"] or None,
        "sensitive": bool(post["sensitive"] or post["summary"]),
        "inReplyTo": in_reply_to,
        "published": iso(post["created_at"]),
        "url": urls.note_page(username, post["id"]),
        "to": to,
        "cc": cc,
        "tag": tags or [],
        "attachment": attachments or [],
        "replies": {
            "id": urls.replies(username, post["id"]),
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "partOf": urls.replies(username, post["id"]),
                "next": urls.page(urls.replies(username, post["id"])),
                "items": [],
            },
        },
    }
    if post["language"]:
        doc["contentMap"] = {post["language"]: post["content_html"]}
    if post["updated_at"]:
        doc["updated"] = iso(post["updated_at"])
    if with_context:
        doc = {"@context": NOTE_CONTEXT, **doc}
    return doc


def tombstone(object_id: str, deleted_at: int | None) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": object_id,
        "type": "Tombstone",
        "deleted": iso(deleted_at),
    }


def delete_actor(urls: LocalUrls, username: str) -> dict[str, Any]:
    """A local account's own `Delete`, in Mastodon's shape (its DeleteActorSerializer): the
    id is the actor's with `#delete`, the object the actor id itself, addressed to Public."""
    actor = urls.actor(username)
    return activity("Delete", f"{actor}#delete", actor, actor, to=[PUBLIC])


def activity(
    activity_type: str,
    activity_id: str,
    actor: str,
    obj: Any,
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    published: int | None = None,
    context: Any = AS_CONTEXT,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": context,
        "id": activity_id,
        "type": activity_type,
        "actor": actor,
        "object": obj,
    }
    if to is not None:
        doc["to"] = to
    if cc is not None:
        doc["cc"] = cc
    if published is not None:
        doc["published"] = iso(published)
    return doc


def strip_context(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "@context"}
