"""Remote actors: a parsed actor (`activitypub.vocab.Actor`) to the values of its account row.

The account writer (`federation/remote_actors.py`) stores what this returns; no other part
of the instance reads a remote actor's JSON. Peer HTML is cut, then sanitised (cutting
sanitised HTML could leave half a tag or an unclosed link in what pages render as markup);
URLs a browser would follow are kept only when they are http(s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from activitypub.html import sanitize_html
from activitypub.vocab import KEY_TYPES, Actor, PublicKey, VocabError, origin_of, types_of
from instance.federation.from_ap.stored import stored_document

# Bounds on a peer's profile HTML, applied to the input before sanitising.
MAX_FIELD_VALUE = 2000
MAX_BIO = 20000
MAX_FIELDS = 8
MAX_TEXT = 255
# Actor types that are software rather than people: shown with a bot badge.
BOT_TYPES = frozenset({"Service", "Application"})


def web_url_or_none(url: str | None) -> str | None:
    """Keep an http(s) URL from a peer; anything else (javascript:, data:) is dropped."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def domain_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class RemoteAccount:
    """What a remote actor's document gives its `accounts` row and its keys."""

    ap_id: str
    username: str
    username_key: str
    domain: str
    display_name: str
    note_html: str
    fields_json: str
    locked: bool
    bot: bool
    discoverable: bool
    avatar_url: str | None
    header_url: str | None
    ap_type: str
    ap_url: str | None
    ap_inbox: str
    ap_shared_inbox: str | None
    ap_outbox: str | None
    ap_followers: str | None
    ap_following: str | None
    ap_featured: str | None
    ap_json: str | None
    published: int | None
    # Only keys this actor owns, on its own host: a document cannot lend itself another's key.
    keys: tuple[PublicKey, ...]

    def row_values(self, fetched_at: int) -> dict[str, Any]:
        """The columns written on insert and on every refresh."""
        return {
            "username": self.username,
            "username_key": self.username_key,
            "domain": self.domain,
            "display_name": self.display_name,
            "note_html": self.note_html,
            "fields_json": self.fields_json,
            "locked": 1 if self.locked else 0,
            "bot": 1 if self.bot else 0,
            "discoverable": 1 if self.discoverable else 0,
            "avatar_url": self.avatar_url,
            "header_url": self.header_url,
            "updated_at": fetched_at,
            "ap_type": self.ap_type,
            "ap_url": self.ap_url,
            "ap_inbox": self.ap_inbox,
            "ap_shared_inbox": self.ap_shared_inbox,
            "ap_outbox": self.ap_outbox,
            "ap_followers": self.ap_followers,
            "ap_following": self.ap_following,
            "ap_featured": self.ap_featured,
            "ap_json": self.ap_json,
            "ap_fetched_at": fetched_at,
        }


def remote_account(actor: Actor) -> RemoteAccount:
    username = actor.preferred_username or actor.id.rstrip("/").rsplit("/", 1)[-1]
    fields = [
        {"name": name[:MAX_TEXT], "value_html": sanitize_html(value[:MAX_FIELD_VALUE])}
        for name, value in actor.fields[:MAX_FIELDS]
    ]
    return RemoteAccount(
        ap_id=actor.id,
        username=username[:MAX_TEXT],
        username_key=username.lower()[:MAX_TEXT],
        domain=domain_of(actor.id),
        display_name=(actor.name or username)[:MAX_TEXT],
        note_html=sanitize_html((actor.summary or "")[:MAX_BIO]),
        fields_json=json.dumps(fields),
        locked=actor.manually_approves_followers,
        bot=actor.type in BOT_TYPES,
        discoverable=actor.discoverable,
        avatar_url=web_url_or_none(actor.icon_url),
        header_url=web_url_or_none(actor.image_url),
        ap_type=actor.type,
        ap_url=web_url_or_none(actor.url),
        ap_inbox=actor.inbox,
        ap_shared_inbox=actor.shared_inbox,
        ap_outbox=actor.outbox,
        ap_followers=actor.followers,
        ap_following=actor.following,
        ap_featured=actor.featured,
        ap_json=stored_document(actor.raw),
        published=int(actor.published) if actor.published else None,
        keys=tuple(key for key in actor.public_keys if _owned_here(key, actor.id)),
    )


def _owned_here(key: PublicKey, actor_id: str) -> bool:
    """The key belongs to this actor and lives on its host.

    A key id that is not an absolute URL (an old Bridgy Fed actor names its key by its
    domain alone) can match no signature: the key is left out, the actor is still stored.
    """
    try:
        return key.owner == actor_id and origin_of(key.id) == origin_of(actor_id)
    except VocabError:
        return False


@dataclass(frozen=True)
class KeyDocument:
    """What a key id dereferenced to: the key alone (naming its owner) or an actor."""

    actor_id: str
    # A key document that names its owner: the owner's own document is fetched next.
    names_owner: bool
    # The key itself, when the document is one: reported for a key on another host.
    pem: str | None


def key_document(doc: dict[str, Any]) -> KeyDocument | None:
    """Read a fetched key-id document; None when it names no actor."""
    is_key = bool(KEY_TYPES & set(types_of(doc)))
    owner = doc.get("owner") if is_key else None
    actor_id = owner if isinstance(owner, str) else doc.get("id")
    if not isinstance(actor_id, str):
        return None
    pem = doc.get("publicKeyPem")
    return KeyDocument(
        actor_id=actor_id, names_owner=bool(owner), pem=pem if isinstance(pem, str) else None
    )
