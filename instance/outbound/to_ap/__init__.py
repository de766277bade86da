"""to_ap: rows to ActivityPub documents, the only place that builds one.

This module holds the shared pieces (times, addressing, the activity envelope) and the
actor, note and collection documents; one submodule per further kind of document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from activitypub.vocab import ACTOR_CONTEXT, AS_CONTEXT, NOTE_CONTEXT, PUBLIC
from instance.db.connection import Row
from instance.urls import LocalUrls

PAGE_SIZE = 20


def iso(ts: int | float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(urls: LocalUrls, account: Row, public_pem: str) -> dict[str, Any]:
    username = account["username"]
    actor_id = urls.actor(username)
    fields = json.loads(account["fields_json"] or "[]")
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": actor_id,
        "type": "Service" if account["bot"] else "Person",
        "preferredUsername": username,
        "name": account["display_name"] or username,
        "summary": account["note_html"] or "",
        "url": urls.profile(username),
        "inbox": urls.inbox(username),
        "outbox": urls.outbox(username),
        "followers": urls.followers(username),
        "following": urls.following(username),
        "featured": urls.featured(username),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": bool(account["locked"]),
        "discoverable": bool(account["discoverable"]),
        "indexable": bool(account["discoverable"]),
        "published": iso(account["created_at"]),
        "publicKey": {"id": urls.key_id(username), "owner": actor_id, "publicKeyPem": public_pem},
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value_html", "")}
            for f in fields
        ],
        "alsoKnownAs": [],
        "tag": [],
    }
    if account["avatar_url"]:
        doc["icon"] = {"type": "Image", "url": account["avatar_url"]}
    if account["header_url"]:
        doc["image"] = {"type": "Image", "url": account["header_url"]}
    return doc


def instance_actor_name(host: str) -> str:
    """The instance actor's preferredUsername: the host without its port, as on Mastodon.

    WebFinger answers ``acct:<this>@<host>`` with the instance actor (peers check it).
    """
    return host.split(":")[0]


def instance_actor_page(urls: LocalUrls) -> str:
    """The HTML page that stands for the instance actor: the instance's home page."""
    return f"{urls.base_url}/"


def instance_actor(urls: LocalUrls, host: str, public_pem: str) -> dict[str, Any]:
    return {
        "@context": ACTOR_CONTEXT,
        "id": urls.instance_actor,
        "type": "Application",
        "preferredUsername": instance_actor_name(host),
        "name": host,
        "inbox": f"{urls.instance_actor}/inbox",
        "outbox": f"{urls.instance_actor}/outbox",
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "url": instance_actor_page(urls),
        "manuallyApprovesFollowers": True,
        "publicKey": {
            "id": urls.instance_key_id,
            "owner": urls.instance_actor,
            "publicKeyPem": public_pem,
        },
    }


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
        "attachment": [],
        "replies": {
            "id": urls.replies(username, post["id"]),
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "partOf": urls.replies(username, post["id"]),
                "next": f"{urls.replies(username, post['id'])}?page=true",
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


def create_of(note: dict[str, Any], context: Any = AS_CONTEXT) -> dict[str, Any]:
    """The Create activity of a note, at the id Mastodon uses (`<note id>/activity`)."""
    return activity(
        "Create",
        f"{note['id']}/activity",
        note["attributedTo"],
        note,
        to=note["to"],
        cc=note["cc"],
        context=context,
    )


def strip_context(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "@context"}


def ordered_collection(
    collection_id: str, total: int, *, first: str | None, last: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        doc["first"] = first
    if last:
        doc["last"] = last
    return doc


def ordered_page(
    page_id: str, part_of: str, items: list[Any], *, next_url: str | None, prev_url: str | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_url:
        doc["next"] = next_url
    if prev_url:
        doc["prev"] = prev_url
    return doc
