"""ActivityStreams vocabulary: tolerant, read-only views over raw ActivityPub JSON.

Every server shapes its JSON a little differently: a value may be a string, an
object with ``id`` or ``href``, or a list of either; ``content`` may only exist
as ``contentMap``; keys, icons, tags and URLs come as one object or a list. The
helpers here absorb those shapes once, so the rest of Gapo reads plain typed
fields. Parsers never sanitise HTML (see ``activitypub.html``) and never fetch;
they keep the original document in ``raw`` for whatever they do not model.

Actors and notes live in ``vocab_actor`` and ``vocab_note``; they are
re-exported here, so callers import everything from ``activitypub.vocab``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from activitypub.vocab_actor import (
    ACTOR_TYPES,
    KEY_TYPES,
    Actor,
    PublicKey,
    key_for,
    parse_actor,
    parse_public_keys,
)
from activitypub.vocab_base import (
    AS_CONTEXT,
    PUBLIC,
    PUBLIC_ALIASES,
    SECURITY_CONTEXT,
    VocabError,
    as_list,
    first_str,
    id_of,
    ids_of,
    is_public,
    origin_of,
    parse_datetime,
    primary_type,
    types_of,
)
from activitypub.vocab_note import (
    NOTE_TYPES,
    Attachment,
    Hashtag,
    Mention,
    Note,
    attributed_actor_ids,
    parse_note,
)

__all__ = [
    "ACTIVITY_TYPES",
    "ACTOR_CONTEXT",
    "ACTOR_TYPES",
    "AS_CONTEXT",
    "COLLECTION_TYPES",
    "KEY_TYPES",
    "NOTE_CONTEXT",
    "NOTE_TYPES",
    "PUBLIC",
    "PUBLIC_ALIASES",
    "SECURITY_CONTEXT",
    "SUSPENDED_TERM",
    "Activity",
    "Actor",
    "Attachment",
    "CollectionView",
    "GenericObject",
    "Hashtag",
    "Kind",
    "Mention",
    "Note",
    "PublicKey",
    "Visibility",
    "VocabError",
    "as_list",
    "attributed_actor_ids",
    "classify",
    "first_str",
    "id_of",
    "ids_of",
    "is_public",
    "key_for",
    "origin_of",
    "parse_activity",
    "parse_actor",
    "parse_collection",
    "parse_datetime",
    "parse_note",
    "parse_object",
    "parse_public_keys",
    "primary_type",
    "types_of",
    "visibility_of",
]

# The object of extra terms Mastodon (and everyone reading Mastodon) expects,
# exactly as INTEROP.md lists them.
_TOOT_TERMS: dict[str, Any] = {
    "toot": "http://joinmastodon.org/ns#",
    "schema": "http://schema.org#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "discoverable": "toot:discoverable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "indexable": "toot:indexable",
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
}
ACTOR_CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, _TOOT_TERMS]
# Mastodon's flag on the actor of a suspended account (its Update says so to followers).
SUSPENDED_TERM: dict[str, Any] = {"suspended": "toot:suspended"}
NOTE_CONTEXT: list[Any] = [AS_CONTEXT, _TOOT_TERMS]

ACTIVITY_TYPES = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Arrive",
        "Block",
        "Create",
        "Delete",
        "Dislike",
        "EmojiReact",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Listen",
        "Move",
        "Offer",
        "Question",
        "Read",
        "Reject",
        "Remove",
        "TentativeAccept",
        "TentativeReject",
        "Travel",
        "Undo",
        "Update",
        "View",
        # GoToSocial's interaction requests (FEP-044f-style approvals).
        "LikeRequest",
        "ReplyRequest",
        "AnnounceRequest",
    }
)
COLLECTION_TYPES = frozenset(
    {"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"}
)

Visibility = Literal["public", "unlisted", "followers", "direct"]
Kind = Literal["actor", "note", "activity", "collection", "other"]


@dataclass(frozen=True)
class Activity:
    id: str | None
    type: str
    actor: str
    object: Any  # as sent: an id string, an embedded dict, a list, or None
    object_id: str | None
    target: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    published: float | None
    raw: dict[str, Any]


class CollectionView(NamedTuple):
    """What a reader needs from any collection or page, whichever shape it came in."""

    total_items: int | None
    first: str | dict[str, Any] | None  # a page id, or the embedded first page
    items: list[Any]  # ids or embedded objects, in the server's order
    next: str | None


@dataclass(frozen=True)
class GenericObject:
    """Any other object (Tombstone, Edition, Album, a bare key document…)."""

    id: str | None
    type: str | None
    raw: dict[str, Any]


def _require_dict(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise VocabError("document is not a JSON object")
    return doc


def parse_activity(doc: dict[str, Any]) -> Activity:
    """Read an activity. ``id`` may be absent (transient activities); ``actor`` may not."""
    doc = _require_dict(doc)
    # A list of types (`["Create"]`, or an extension type first) is handled by the
    # first type we know.
    kind = primary_type(doc, ACTIVITY_TYPES)
    if kind is None:
        raise VocabError("activity has no type")
    actor = id_of(doc.get("actor"))
    if actor is None:
        raise VocabError("activity has no actor")
    obj = doc.get("object")
    return Activity(
        id=id_of(doc.get("id")),
        type=kind,
        actor=actor,
        object=obj,
        object_id=id_of(obj),
        target=id_of(doc.get("target")),
        to=tuple(ids_of(doc.get("to"))),
        cc=tuple(ids_of(doc.get("cc"))),
        published=parse_datetime(doc.get("published")),
        raw=doc,
    )


def _non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_collection(doc: dict[str, Any]) -> CollectionView:
    """Read a Collection, OrderedCollection or one of their pages.

    ``items`` holds ``orderedItems`` or ``items`` (some servers use either with
    either type); a collection's embedded first page is returned as a dict so
    the caller can read its items without another fetch.
    """
    doc = _require_dict(doc)
    # Hubzilla writes "orderedCollection"; compare case-insensitively.
    known = {t.lower() for t in COLLECTION_TYPES}
    if not any(t.lower() in known for t in types_of(doc)):
        raise VocabError("not a collection")
    items: list[Any] = []
    for key in ("orderedItems", "items"):
        if key in doc and doc[key] is not None:
            items = as_list(doc[key])
            break
    first = doc.get("first")
    first_value: str | dict[str, Any] | None = first if isinstance(first, dict) else id_of(first)
    return CollectionView(
        total_items=_non_negative_int(doc.get("totalItems")),
        first=first_value,
        items=items,
        next=id_of(doc.get("next")),
    )


def visibility_of(to: Any, cc: Any, followers_url: str | None) -> Visibility:
    """Who may see a post, from its addressing (INTEROP.md, as Mastodon reads it).

    Public in ``to`` is public; Public only in ``cc`` is unlisted; the author's
    followers collection without Public is followers-only; anything else
    (only named actors) is direct.
    """
    to_ids = ids_of(to)
    cc_ids = ids_of(cc)
    if any(is_public(a) for a in to_ids):
        return "public"
    if any(is_public(a) for a in cc_ids):
        return "unlisted"
    if followers_url and followers_url in (*to_ids, *cc_ids):
        return "followers"
    return "direct"


def classify(doc: Any) -> Kind:
    """Which parser a document calls for, decided by its ``type``."""
    if not isinstance(doc, dict):
        return "other"
    types = types_of(doc)
    if any(t in ACTOR_TYPES for t in types):
        return "actor"
    # Question is both an activity type and a poll; as an object it is a note.
    if any(t in NOTE_TYPES for t in types):
        return "note"
    if any(t in ACTIVITY_TYPES for t in types) or (types and "actor" in doc and "object" in doc):
        return "activity"
    lowered = {t.lower() for t in COLLECTION_TYPES}
    if any(t.lower() in lowered for t in types):
        return "collection"
    return "other"


def parse_object(doc: Any) -> Actor | Note | Activity | CollectionView | GenericObject:
    """Parse any document with the parser its type calls for.

    Raises ``VocabError`` only when a document claims a kind (say, Person) but
    lacks what that kind needs (say, an inbox).
    """
    doc = _require_dict(doc)
    kind = classify(doc)
    if kind == "actor":
        return parse_actor(doc)
    if kind == "note":
        return parse_note(doc)
    if kind == "activity":
        return parse_activity(doc)
    if kind == "collection":
        return parse_collection(doc)
    return GenericObject(id=id_of(doc.get("id")), type=first_str(doc.get("type")), raw=doc)
