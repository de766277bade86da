"""The Actor view (Person, Service, Application, Group, Organization) and its keys.

Keys come from ``publicKey`` (one object, a list, or absent) and from
``assertionMethod`` Multikey entries (FEP-521a), which some actors publish
instead; Multikeys are converted to PEM so every key reads the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.vocab_base import (
    VocabError,
    as_list,
    first_str,
    id_of,
    ids_of,
    lang_value,
    parse_datetime,
    types_of,
)

__all__ = [
    "ACTOR_TYPES",
    "KEY_TYPES",
    "Actor",
    "PublicKey",
    "image_url_of",
    "key_for",
    "multikey_to_pem",
    "parse_actor",
    "parse_public_keys",
    "url_of",
]

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# A key id that dereferences to the key alone comes back as one of these.
KEY_TYPES = frozenset({"Key", "CryptographicKey"})


@dataclass(frozen=True)
class PublicKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class Actor:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    summary: str | None  # raw HTML; sanitise before showing
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    public_keys: tuple[PublicKey, ...]
    icon_url: str | None
    image_url: str | None
    manually_approves_followers: bool
    discoverable: bool
    published: float | None
    fields: tuple[tuple[str, str], ...]
    also_known_as: tuple[str, ...]
    moved_to: str | None
    raw: dict[str, Any]


def url_of(value: Any) -> str | None:
    """The URL in a ``url`` value: a string, a Link (``href``), or a list of those.

    From a list, a ``text/html`` link wins: that is the page people open.
    """
    entries = as_list(value)
    for entry in entries:
        if isinstance(entry, dict) and entry.get("mediaType") == "text/html":
            href = first_str(entry.get("href"))
            if href:
                return href
    for entry in entries:
        if isinstance(entry, str) and entry:
            return entry
        if isinstance(entry, dict):
            href = first_str(entry.get("href")) or url_of(entry.get("url"))
            if href:
                return href
    return None


def image_url_of(value: Any) -> str | None:
    """The picture URL in an ``icon``/``image`` value (an Image, a URL, a list, null)."""
    for entry in as_list(value):
        if isinstance(entry, str) and entry:
            return entry
        if isinstance(entry, dict):
            found = url_of(entry.get("url")) or first_str(entry.get("href"))
            if found:
                return found
    return None


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
_RSA_PREFIX = b"\x85\x24"  # multicodec rsa-pub (0x1205), as an unsigned varint


def _base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58_ALPHABET.find(char)
        if digit < 0:
            raise ValueError("not base58btc")
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zeros + raw


def multikey_to_pem(multibase: str) -> str | None:
    """PEM (SubjectPublicKeyInfo) for a Multikey ``publicKeyMultibase``, or None.

    Handles the two key types in use on the fediverse: Ed25519 and RSA.
    """
    if not multibase.startswith("z"):
        return None
    try:
        data = _base58btc_decode(multibase[1:])
        if data.startswith(_ED25519_PREFIX) and len(data) == 34:
            key: Any = ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
        elif data.startswith(_RSA_PREFIX):
            # The payload is a PKCS#1 RSAPublicKey, which this loader accepts.
            key = serialization.load_der_public_key(data[2:])
        else:
            return None
        pem: bytes = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except ValueError:
        return None
    return pem.decode("ascii")


def _public_keys(doc: dict[str, Any], actor_id: str) -> tuple[PublicKey, ...]:
    keys: list[PublicKey] = []
    seen: set[str] = set()
    for entry in as_list(doc.get("publicKey")):
        if not isinstance(entry, dict):
            continue  # a bare key IRI: nothing to verify with until fetched
        key_id = id_of(entry.get("id"))
        pem = first_str(entry.get("publicKeyPem"))
        if key_id and pem and key_id not in seen:
            seen.add(key_id)
            owner = id_of(entry.get("owner")) or actor_id
            keys.append(PublicKey(id=key_id, owner=owner, pem=pem))
    for entry in as_list(doc.get("assertionMethod")):
        if not isinstance(entry, dict) or "Multikey" not in types_of(entry):
            continue
        key_id = id_of(entry.get("id"))
        multibase = first_str(entry.get("publicKeyMultibase"))
        pem_text = multikey_to_pem(multibase) if multibase else None
        if key_id and pem_text and key_id not in seen:
            seen.add(key_id)
            owner = id_of(entry.get("controller")) or actor_id
            keys.append(PublicKey(id=key_id, owner=owner, pem=pem_text))
    return tuple(keys)


def _fields(doc: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for entry in as_list(doc.get("attachment")):
        if isinstance(entry, dict) and "PropertyValue" in types_of(entry):
            name = first_str(entry.get("name"))
            value = first_str(entry.get("value"))
            if name is not None and value is not None:
                found.append((name, value))
    return tuple(found)


def _shared_inbox(doc: dict[str, Any]) -> str | None:
    endpoints = doc.get("endpoints")
    if isinstance(endpoints, dict):
        shared = id_of(endpoints.get("sharedInbox"))
        if shared:
            return shared
    # Misskey repeats it at the top level; some of its forks only put it there.
    return id_of(doc.get("sharedInbox"))


def parse_actor(doc: dict[str, Any]) -> Actor:
    """Read an actor; ``VocabError`` when id, an actor type or inbox is missing."""
    if not isinstance(doc, dict):
        raise VocabError("actor is not a JSON object")
    actor_id = id_of(doc.get("id"))
    if actor_id is None:
        raise VocabError("actor has no id")
    actor_type = next((t for t in types_of(doc) if t in ACTOR_TYPES), None)
    if actor_type is None:
        raise VocabError(f"{doc.get('type')!r} is not an actor type")
    inbox = id_of(doc.get("inbox"))
    if inbox is None:
        raise VocabError("actor has no inbox")
    return Actor(
        id=actor_id,
        type=actor_type,
        preferred_username=first_str(doc.get("preferredUsername")),
        name=lang_value(doc, "name"),
        summary=lang_value(doc, "summary"),
        url=url_of(doc.get("url")),
        inbox=inbox,
        shared_inbox=_shared_inbox(doc),
        outbox=id_of(doc.get("outbox")),
        followers=id_of(doc.get("followers")),
        following=id_of(doc.get("following")),
        featured=id_of(doc.get("featured")),
        public_keys=_public_keys(doc, actor_id),
        icon_url=image_url_of(doc.get("icon")),
        image_url=image_url_of(doc.get("image")),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        discoverable=doc.get("discoverable") is True,
        published=parse_datetime(doc.get("published")),
        fields=_fields(doc),
        also_known_as=tuple(ids_of(doc.get("alsoKnownAs"))),
        moved_to=id_of(doc.get("movedTo")),
        raw=doc,
    )


def parse_public_keys(doc: dict[str, Any]) -> tuple[PublicKey, ...]:
    """Keys from an actor document, or from a key document fetched on its own.

    A ``keyId`` often dereferences to the key alone (``{id, owner,
    publicKeyPem}``) or to an actor that lacks an inbox; signature checks only
    need the keys, so this reads them without demanding a whole actor.
    """
    if not isinstance(doc, dict):
        return ()
    doc_id = id_of(doc.get("id"))
    pem = first_str(doc.get("publicKeyPem"))
    if doc_id and pem:
        owner = id_of(doc.get("owner")) or id_of(doc.get("controller"))
        return (PublicKey(id=doc_id, owner=owner, pem=pem),) if owner else ()
    if doc_id and "Multikey" in types_of(doc):
        owner = id_of(doc.get("controller"))
        multibase = first_str(doc.get("publicKeyMultibase"))
        pem_text = multikey_to_pem(multibase) if multibase else None
        return (PublicKey(id=doc_id, owner=owner, pem=pem_text),) if owner and pem_text else ()
    return _public_keys(doc, doc_id) if doc_id else ()


def key_for(actor: Actor, key_id: str) -> PublicKey | None:
    """The actor's key with this id, or None.

    Keys that name another owner are never returned: an actor document must
    not be able to lend itself someone else's key. A ``keyId`` equal to the
    actor id (some servers sign that way) picks the actor's only key.
    """
    own = [key for key in actor.public_keys if key.owner == actor.id]
    for key in own:
        if key.id == key_id:
            return key
    if key_id == actor.id and len(own) == 1:
        return own[0]
    return None
