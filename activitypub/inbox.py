"""The inbox verification pipeline: from a raw POST to an activity we trust the origin of.

`verify_inbox_request` is a list of steps, each raising an `InboxError` that
carries the HTTP status and a reason safe to show the sender:

1. size limit (413) — before any parsing;
2. the request made to this server: its Host (which a cavage signature must cover)
   and its URL's authority (which RFC 9421's `@authority`/`@target-uri` cover) are
   ours, so a request signed for another server cannot be replayed here (401);
   signature headers parsed, cheap checks (401);
3. the signing key's host, and the actor's, not blocked (403);
4. JSON with a depth limit, an object with id, type, actor (400);
5. key looked up (503 when it cannot be had, 401 when its owner does not list
   it; 202 and nothing more for the self-`Delete` of an actor whose key is gone);
6. signature verified off the event loop; on failure the key is re-fetched once,
   for key rotation (401);
7. the signer is the activity's actor (401);
8. origins: the activity id, and the object ids of Create/Update/Delete, on the
   actor's origin; Update of an actor only by that actor; an object created or
   updated is attributed to the actor (403).

Storage, deduplication and applying the activity are the caller's business.
Collaborators (key lookup, block list, thread pool) come in as arguments.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from activitypub.signatures import (
    BadSignature,
    ParsedSignature,
    SignatureError,
    parse_request_signature,
    verify_parsed,
)
from activitypub.vocab import ACTOR_TYPES, attributed_actor_ids

# Activities whose object the actor claims to author: it must live on the actor's origin.
AUTHORED_OBJECT_TYPES = frozenset({"Create", "Update", "Delete"})
# Activities that make their object what it is: its author must be their actor.
AUTHORING_TYPES = frozenset({"Create", "Update"})


class InboxError(Exception):
    """A refused inbox request; `status` is the HTTP answer, `reason` safe to send."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthorized(InboxError):
    """Unsigned, badly signed, or signed by someone other than the activity's actor."""

    status = 401


class KeyNotListed(Unauthorized):
    """The key's owner, fetched from its origin, does not list the key: 401, final.

    Not 503: the owner answered, and asking again for days would change nothing.
    """


class ActorUnavailable(InboxError):
    """The signing key could not be fetched; the sender should retry later."""

    status = 503


class ActorGone(InboxError):
    """A deleted actor's farewell `Delete` of itself, whose key can no longer be fetched.

    Status 202: the request is acknowledged and dropped. Nothing in it was
    verified, so the caller must not act on it; answering 503 would only make
    the sender retry for days (Mastodon answers these with 202 too).
    """

    status = 202


class OriginMismatch(InboxError):
    """The signer is authenticated but claims what is not theirs: an object on another
    host, or an update of another actor. 403, not 401: re-authenticating cannot help."""

    status = 403


class BlockedDomain(InboxError):
    """The key or the actor lives on a domain the admin blocked."""

    status = 403


class BadActivity(InboxError):
    """The body is not an acceptable activity: not JSON, too deep, missing fields."""

    status = 400


class TooLarge(InboxError):
    """The body is over the size limit."""

    status = 413


@dataclass
class VerifiedActivity:
    """An activity whose signer is its actor and whose origins check out."""

    activity: dict[str, Any]
    actor_id: str
    key_id: str
    scheme: str


class KeyLookup(Protocol):
    """Finds a key by id: (owner actor id, public key PEM), or None when it cannot be had.

    `refresh=True` asks for a fresh fetch, bypassing any cache (key rotation).
    Raising an `InboxError` (such as `KeyNotListed`) refuses with its status; raising
    anything else means "temporarily unavailable".
    """

    async def __call__(self, key_id: str, *, refresh: bool) -> tuple[str, str] | None: ...


Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) with default ports made explicit; None if not an http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


# ---------------------------------------------------------------- steps


def check_size(body: bytes, headers: Mapping[str, str], max_body: int) -> None:
    if len(body) > max_body:
        raise TooLarge(f"body larger than {max_body} bytes")
    for name, value in headers.items():
        declared = value.strip()
        if name.lower() == "content-length" and declared.isdigit() and int(declared) > max_body:
            raise TooLarge(f"body larger than {max_body} bytes")


def _authorities(origin: str) -> set[str]:
    """The Host values naming `origin`: with and without its default port."""
    found = origin_of(origin)
    if found is None:
        raise ValueError(f"not an http(s) origin: {origin!r}")
    scheme, host, port = found
    name = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return {f"{name}:{port}"} | ({name} if port == default else set())


def check_addressed_here(
    url: str, headers: Mapping[str, str], origins: Collection[str] | None
) -> None:
    """The request was made to one of `origins` (None: no check)."""
    if origins is None:
        return
    ours = set().union(*(_authorities(origin) for origin in origins))
    host = next((v for k, v in headers.items() if k.lower() == "host"), None)
    url_is_ours = origin_of(url) is not None and bool(_authorities(url) & ours)
    if not url_is_ours or (host is not None and host.strip().lower() not in ours):
        raise Unauthorized("request is not addressed to this server")


def check_host_covered(parsed: ParsedSignature, origins: Collection[str] | None) -> None:
    """A cavage signature that leaves out `host` would verify on any server: refused."""
    if origins is not None and parsed.scheme == "cavage" and "host" not in parsed.covered:
        raise Unauthorized("signature must cover host")


def parse_signature(
    method: str, url: str, headers: Mapping[str, str], body: bytes, now: float | None
) -> ParsedSignature:
    try:
        return parse_request_signature(method, url, headers, body, now=now)
    except SignatureError as exc:
        raise Unauthorized(exc.reason) from exc


async def check_not_blocked(
    urls: list[str], is_blocked_domain: Callable[[str], Awaitable[bool]] | None
) -> None:
    if is_blocked_domain is None:
        return
    for host in {urlsplit(url).hostname or "" for url in urls}:
        if host and await is_blocked_domain(host.lower()):
            raise BlockedDomain("domain is blocked")


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, iteratively (recursion is what we guard against)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def parse_activity(body: bytes, max_depth: int) -> dict[str, Any]:
    try:
        activity = json.loads(body)
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit: far too deep anyway.
        raise BadActivity("JSON nested too deeply") from None
    except ValueError:
        raise BadActivity("body is not JSON") from None
    if not isinstance(activity, dict):
        raise BadActivity("activity must be a JSON object")
    if _depth(activity) > max_depth:
        raise BadActivity("JSON nested too deeply")
    return activity


def _id_of(value: Any) -> str | None:
    """The id of a reference: a string, or an object with a string `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _types_of(value: Any) -> set[str]:
    kind = value.get("type") if isinstance(value, dict) else None
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def check_shape(activity: dict[str, Any]) -> str:
    """Require id, type and a single actor; returns the actor id."""
    if not isinstance(activity.get("id"), str) or origin_of(activity["id"]) is None:
        raise BadActivity("activity needs an http(s) id")
    if not _types_of(activity):
        raise BadActivity("activity needs a type")
    actor_id = _id_of(activity.get("actor"))
    if actor_id is None or origin_of(actor_id) is None:
        raise BadActivity("activity needs a single actor")
    return actor_id


def _is_self_delete(activity: dict[str, Any], actor_id: str) -> bool:
    return "Delete" in _types_of(activity) and _id_of(activity.get("object")) == actor_id


async def lookup(
    lookup_key: KeyLookup, key_id: str, activity: dict[str, Any], actor_id: str
) -> tuple[str, str]:
    try:
        found = await lookup_key(key_id, refresh=False)
    except InboxError:
        raise
    except Exception as exc:
        # Whatever failed (timeout, 5xx, DNS), the sender should retry, not give up.
        raise ActorUnavailable("could not fetch the signing key") from exc
    if found is None:
        if _is_self_delete(activity, actor_id):
            raise ActorGone("actor is gone; nothing to verify")
        raise ActorUnavailable("could not fetch the signing key")
    return found


async def verify_with_rotation(
    parsed: ParsedSignature,
    owner_and_pem: tuple[str, str],
    lookup_key: KeyLookup,
    run_blocking: Callable[..., Awaitable[Any]] | None,
) -> str:
    """Verify; on failure re-fetch the key once (it may have rotated). Returns the owner."""

    async def attempt(pem: str) -> BadSignature | None:
        try:
            if run_blocking is None:
                verify_parsed(parsed, pem)
            else:
                await run_blocking(verify_parsed, parsed, pem)
        except BadSignature as exc:
            return exc
        return None

    owner, pem = owner_and_pem
    failure = await attempt(pem)
    if failure is None:
        return owner
    try:
        fresh = await lookup_key(parsed.key_id, refresh=True)
    except Exception:
        fresh = None  # the cached key was wrong and no better one is to be had
    if fresh is not None and fresh[1] != pem:
        owner, pem = fresh
        failure = await attempt(pem)
        if failure is None:
            return owner
    raise Unauthorized(failure.reason) from failure


def check_signer(key_id: str, owner: str, actor_id: str) -> None:
    """The key belongs to the activity's actor, and is served from the actor's origin."""
    if owner != actor_id:
        raise Unauthorized("signer is not the activity's actor")
    # Defence in depth: a key lookup that trusted a document's own `owner` claim
    # would otherwise let one host speak for actors on another.
    if origin_of(key_id) != origin_of(owner):
        raise Unauthorized("key is not on the actor's host")


def check_authorship(activity: dict[str, Any], actor_id: str) -> None:
    """The author of an object created or updated is the activity's actor (its signer).

    An embedded object whose `attributedTo` names others only (a post "by" a neighbour on
    the signer's host) is refused; one naming nobody is the actor's. A list may name
    several actors (PeerTube: account and channel): the actor must be among them.
    """
    target = activity.get("object")
    if not isinstance(target, dict) or not _types_of(activity) & AUTHORING_TYPES:
        return
    if _types_of(target) & ACTOR_TYPES:
        return  # an actor document has no author; "only itself" is checked above
    authors = attributed_actor_ids(target.get("attributedTo"))
    if authors and actor_id not in authors:
        raise OriginMismatch("the object is attributed to someone other than the actor")


def check_origins(activity: dict[str, Any], actor_id: str) -> None:
    """What the actor claims must live where the actor lives."""
    actor_origin = origin_of(actor_id)
    if origin_of(activity["id"]) != actor_origin:
        raise OriginMismatch("activity id is not on the actor's host")
    types = _types_of(activity)
    target = activity.get("object")
    if types & AUTHORED_OBJECT_TYPES:
        object_id = _id_of(target)
        if object_id is None:
            raise BadActivity("activity needs an object with an id")
        if origin_of(object_id) != actor_origin:
            raise OriginMismatch("object is not on the actor's host")
        if "Update" in types and _types_of(target) & ACTOR_TYPES and object_id != actor_id:
            raise OriginMismatch("an actor may update only itself")
        check_authorship(activity, actor_id)
    elif "Undo" in types and isinstance(target, dict):
        # Undo wraps the activity it takes back: only its own actor may undo it.
        inner_actor = _id_of(target.get("actor"))
        if inner_actor is not None and inner_actor != actor_id:
            raise OriginMismatch("an actor may undo only its own activities")
        inner_id = _id_of(target)
        if inner_id is not None and origin_of(inner_id) != actor_origin:
            raise OriginMismatch("undone activity is not on the actor's host")
    # Announce, Like, Follow, Accept…: the object is someone else's by nature.


# ---------------------------------------------------------------- the pipeline


async def verify_inbox_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    lookup_key: KeyLookup,
    is_blocked_domain: Callable[[str], Awaitable[bool]] | None = None,
    max_body: int = 1_048_576,
    max_depth: int = 30,
    now: float | None = None,
    run_blocking: Callable[..., Awaitable[Any]] | None = None,
    origins: Collection[str] | None = None,
) -> VerifiedActivity:
    """Run every check on an inbox POST; raises an `InboxError` or returns the activity.

    `url` is the full URL the sender requested. `run_blocking(fn, *args)` should
    run `fn` in a thread pool (e.g. `asyncio.to_thread`); without it the RSA
    check runs on the event loop. `origins` (`scheme://host[:port]`) are where this
    server answers: a request addressed elsewhere, or a cavage signature not covering
    `host`, is refused; None skips that check (a library user with its own routing).
    """
    check_size(body, headers, max_body)
    check_addressed_here(url, headers, origins)
    parsed = parse_signature(method, url, headers, body, now)
    check_host_covered(parsed, origins)
    await check_not_blocked([parsed.key_id], is_blocked_domain)
    activity = parse_activity(body, max_depth)
    actor_id = check_shape(activity)
    await check_not_blocked([actor_id], is_blocked_domain)
    owner_and_pem = await lookup(lookup_key, parsed.key_id, activity, actor_id)
    owner = await verify_with_rotation(parsed, owner_and_pem, lookup_key, run_blocking)
    check_signer(parsed.key_id, owner, actor_id)
    check_origins(activity, actor_id)
    return VerifiedActivity(activity, actor_id, parsed.key_id, parsed.scheme)
