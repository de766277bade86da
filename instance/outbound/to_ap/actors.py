"""Actor documents: a local account as Person (or Service), and the instance actor."""

from __future__ import annotations

import json
from typing import Any

from activitypub.vocab import ACTOR_CONTEXT, AS_CONTEXT, SUSPENDED_TERM
from instance.db.connection import Row
from instance.outbound.to_ap.times import iso
from instance.urls import LocalUrls


def person(
    urls: LocalUrls, account: Row, public_pem: str, moves: Row | None = None
) -> dict[str, Any]:
    """The actor document; `moves` (its `account_moves` row, if any) gives `alsoKnownAs`
    (the accounts the person said they moved from) and `movedTo` (where they went)."""
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
        "indexable": bool(account["indexable"]),
        "published": iso(account["created_at"]),
        "publicKey": {"id": urls.key_id(username), "owner": actor_id, "publicKeyPem": public_pem},
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value_html", "")}
            for f in fields
        ],
        "alsoKnownAs": also_known_as(moves),
        "tag": [],
    }
    if moves is not None and moves["moved_to_ap_id"]:
        doc["movedTo"] = moves["moved_to_ap_id"]
    if account["avatar_url"]:
        doc["icon"] = image(account["avatar_url"])
    if account["header_url"]:
        doc["image"] = image(account["header_url"])
    if account.get("suspended_at"):
        # Only the Update announcing a suspension carries it (the actor itself is not
        # served while suspended); Mastodon then hides the account on its side.
        doc["@context"] = [*ACTOR_CONTEXT, SUSPENDED_TERM]
        doc["suspended"] = True
    return doc


def also_known_as(moves: Row | None) -> list[str]:
    """The actor ids of an `account_moves` row's aliases, in the order they were added."""
    if moves is None:
        return []
    return [str(a["id"]) for a in json.loads(moves["also_known_as_json"] or "[]")]


def move(urls: LocalUrls, account: Row, target_ap_id: str, move_id: int) -> dict[str, Any]:
    """The Move of a local actor to `target_ap_id`, as Mastodon sends it: the object is the
    actor itself, the target the new actor, addressed to the followers."""
    actor_id = urls.actor(account["username"])
    return {
        "@context": AS_CONTEXT,
        "id": urls.activity(account["username"], "moves", move_id),
        "type": "Move",
        "actor": actor_id,
        "object": actor_id,
        "target": target_ap_id,
        "to": [urls.followers(account["username"])],
    }


# Profile images are stored re-encoded (instance/media/images.py): the key's extension says how.
_IMAGE_TYPES = {"webp": "image/webp", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def image(url: str) -> dict[str, Any]:
    """An actor's `icon` or `image`: an Image with its media type when the file name says it."""
    doc: dict[str, Any] = {"type": "Image", "url": url}
    tail = url.rsplit("/", 1)[-1]
    media_type = _IMAGE_TYPES.get(tail.rsplit(".", 1)[-1].lower()) if "." in tail else None
    if media_type:
        doc["mediaType"] = media_type
    return doc


def instance_actor_name(host: str) -> str:
    """The instance actor's preferredUsername: the host without its port, as on Mastodon.

    WebFinger answers ``acct:<this>@<host>`` with the instance actor (peers check it).
    """
    return host.split(":")[0]


def instance_actor_page(urls: LocalUrls) -> str:
    """The HTML page that stands for the instance actor: the instance's home page."""
    return urls.home


def instance_actor(urls: LocalUrls, host: str, public_pem: str) -> dict[str, Any]:
    return {
        "@context": ACTOR_CONTEXT,
        "id": urls.instance_actor,
        "type": "Application",
        "preferredUsername": instance_actor_name(host),
        "name": host,
        "inbox": urls.instance_inbox,
        "outbox": urls.instance_outbox,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "url": instance_actor_page(urls),
        "manuallyApprovesFollowers": True,
        "publicKey": {
            "id": urls.instance_key_id,
            "owner": urls.instance_actor,
            "publicKeyPem": public_pem,
        },
    }
