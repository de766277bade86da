"""The WebFinger client: turns ``@name@host`` (or an actor URL) into a verified actor id.

Network I/O comes in as two callables, so this module decides *what* to fetch and what
to believe, never *how*: ``get_jrd(url)`` returns a parsed JRD and ``get_actor(url)``
returns a parsed ActivityPub document. ``get_actor`` is expected to do the fetch layer's
checks (FEP-fe34: the document's ``id`` is on the origin of the final URL); this module
adds Mastodon's WebFinger round trip on top, so a host cannot claim an account that the
actor's own host does not vouch for.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

AP_MEDIA_TYPE = "application/activity+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
PROFILE_PAGE_RELS = frozenset(
    {
        "http://webfinger.net/rel/profile-page",
        # Seen in the wild: Mobilizon adds a trailing slash, WriteFreely uses https.
        "http://webfinger.net/rel/profile-page/",
        "https://webfinger.net/rel/profile-page",
    }
)
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})

# Mastodon's limit is on the whole acct; hosts are bounded by DNS (253) plus a port.
_MAX_HANDLE_LENGTH = 320
_NAME_RE = re.compile(r"[^\s/?#@:<>\"']{1,200}")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|[a-z0-9_]{1,63}")
_IPV6_RE = re.compile(r"\[[0-9a-f:.]+\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# host-meta is tiny; anything larger is not worth parsing.
_MAX_HOST_META_BYTES = 64 * 1024

GetJson = Callable[[str], Awaitable[dict[str, Any]]]


class WebFingerError(Exception):
    """Resolving a handle or URL failed; ``reason`` says why, in words fit for a log or a UI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- handles -------------------------------------------------------------------------------


def _normalise_host(host: str) -> str | None:
    """Lower-cased, punycoded ``host[:port]``, or None if it is not a plausible host."""
    host = host.strip().lower()
    if not host or len(host) > 260:
        return None
    port = ""
    if host.startswith("["):  # an IPv6 literal, optionally with a port
        end = host.find("]")
        if end < 0:
            return None
        literal, rest = host[: end + 1], host[end + 1 :]
        if not _IPV6_RE.fullmatch(literal):
            return None
        if rest and not (rest.startswith(":") and _valid_port(rest[1:])):
            return None
        return literal + rest
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not _valid_port(port):
            return None
        port = ":" + port
    host = host.rstrip(".")
    try:
        # The stdlib codec (IDNA 2003) suffices for lookups: it maps what people type
        # (`münchen.de`) to the ASCII form DNS and the remote server use.
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None
    return ascii_host + port


def _valid_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) < 65536


def parse_handle(text: str) -> tuple[str, str] | None:
    """``(name, host)`` from ``@name@host``, ``name@host`` or ``acct:name@host``; else None.

    The host is lower-cased and punycoded and may carry a port (``127.0.0.1:8001``); the
    name keeps its case (servers compare it case-blind, but display it as given).
    """
    text = text.strip()
    if not text or len(text) > _MAX_HANDLE_LENGTH:
        return None
    if text[:5].lower() == "acct:":
        text = text[5:]
    text = text.removeprefix("@")
    name, sep, host = text.partition("@")
    if not sep or not _NAME_RE.fullmatch(name):
        return None
    normalised = _normalise_host(host)
    if normalised is None:
        return None
    return name, normalised


def _acct_key(name: str, host: str) -> tuple[str, str]:
    # Mastodon compares both halves case-insensitively (casecmp).
    return name.lower(), host.lower()


# --- JRD and host-meta documents -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Jrd:
    """What the client uses of a JRD; every field is optional in the wild."""

    subject: str | None
    aliases: tuple[str, ...]
    self_href: str | None
    profile_page: str | None
    subscribe_template: str | None


def is_activitypub_media_type(media_type: str) -> bool:
    """True for ``application/activity+json`` and ``application/ld+json; profile=<AS2>``."""
    base, *params = (part.strip() for part in media_type.split(";"))
    base = base.lower()
    if base == AP_MEDIA_TYPE:
        return True
    if base != "application/ld+json":
        return False
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "profile":
            # The profile parameter is a space-separated list of URIs (RFC 6906).
            return AS_PROFILE in value.strip().strip('"').split()
    return False


def _is_http_url(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def parse_jrd(document: Mapping[str, Any]) -> Jrd:
    """The useful parts of a JRD, ignoring malformed entries instead of failing on them."""
    subject = document.get("subject")
    raw_aliases = document.get("aliases")
    aliases = (
        tuple(a for a in raw_aliases if isinstance(a, str)) if isinstance(raw_aliases, list) else ()
    )
    self_href = profile_page = subscribe = None
    links = document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        rel, media_type, href = link.get("rel"), link.get("type"), link.get("href")
        if (
            rel == "self"
            and self_href is None
            and isinstance(media_type, str)
            and is_activitypub_media_type(media_type)
            and _is_http_url(href)
        ):
            self_href = href
        elif (
            isinstance(rel, str)
            and rel in PROFILE_PAGE_RELS
            and profile_page is None
            and _is_http_url(href)
        ):
            profile_page = href
        elif rel == SUBSCRIBE_REL and subscribe is None:
            template = link.get("template")
            if isinstance(template, str) and "{uri}" in template:
                subscribe = template
    return Jrd(
        subject=subject if isinstance(subject, str) else None,
        aliases=aliases,
        self_href=self_href,
        profile_page=profile_page,
        subscribe_template=subscribe,
    )


def webfinger_url(name: str, host: str, *, scheme: str = "https") -> str:
    """The RFC 7033 query URL for ``acct:name@host``.

    ``:`` and ``@`` are legal in a query (RFC 3986), so the usual form stays readable;
    anything else unusual in a name is percent-encoded.
    """
    resource = quote(f"acct:{name}@{host}", safe=":@")
    return f"{scheme}://{host}/.well-known/webfinger?resource={resource}"


_XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
_JSON_LRDD_TYPES = frozenset({"application/jrd+json", "application/json"})


def parse_host_meta(xml_text: str) -> str | None:
    """The lrdd template of a host-meta XRD document (RFC 6415), or None.

    A JSON-typed (or untyped) lrdd link is preferred; servers that only list an XRD-typed
    one (PeerTube, Pleroma, Hubzilla) usually answer JSON at the same URL when asked.
    """
    if len(xml_text) > _MAX_HOST_META_BYTES or "<!DOCTYPE" in xml_text.upper():
        # No DTD means no entity expansion ("billion laughs") and no external entities,
        # the attacks defusedxml exists for; host-meta never needs one.
        return None
    try:
        root = ElementTree.fromstring(xml_text)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError:
        return None
    templates: list[tuple[str | None, str]] = []
    for link in root.iter():
        if link.tag not in (f"{_XRD_NS}Link", "Link") or link.get("rel") != "lrdd":
            continue
        template = link.get("template")
        if template and "{uri}" in template:
            templates.append((link.get("type"), template))
    return _pick_lrdd(templates)


def parse_host_meta_json(document: Mapping[str, Any]) -> str | None:
    """The lrdd template of a ``host-meta.json`` document, or None."""
    links = document.get("links")
    templates: list[tuple[str | None, str]] = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "lrdd":
            continue
        template, media_type = link.get("template"), link.get("type")
        if isinstance(template, str) and "{uri}" in template:
            templates.append((media_type if isinstance(media_type, str) else None, template))
    return _pick_lrdd(templates)


def _pick_lrdd(templates: list[tuple[str | None, str]]) -> str | None:
    for media_type, template in templates:
        if media_type is None or media_type.lower() in _JSON_LRDD_TYPES:
            return template
    return templates[0][1] if templates else None


def expand_lrdd(template: str, resource: str) -> str:
    """Fills an lrdd template; RFC 6415 §4.2 wants the whole URI percent-encoded."""
    return template.replace("{uri}", quote(resource, safe=""))


# --- resolving -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolved:
    """The outcome of :func:`resolve_actor`: the actor, fetched once, and how it was reached."""

    actor_id: str
    actor: dict[str, Any]
    # The verified ``name@host`` that webfingers to the actor (None for URL queries,
    # which skip WebFinger).
    acct: str | None


def _is_actor(document: Mapping[str, Any]) -> bool:
    kind = document.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    # isinstance first: a JSON object as a "type" is unhashable and would raise in `in`.
    known = any(isinstance(k, str) and k in ACTOR_TYPES for k in kinds)
    return known and _is_http_url(document.get("id"))


def _host_of(url: str) -> str | None:
    """``host[:port]`` of a URL, normalised like :func:`parse_handle` does."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.netloc.rpartition("@")[2]
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        # `https://h:443/` and `https://h/` are one origin, and one WebFinger host.
        host = host.rpartition(":")[0]
    return _normalise_host(host)


async def _call(fetch: GetJson, url: str, what: str) -> dict[str, Any]:
    try:
        document = await fetch(url)
    except WebFingerError:
        raise
    except Exception as exc:  # the fetch layer's own errors, whatever they are
        raise WebFingerError(f"could not fetch the {what} at {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise WebFingerError(f"the {what} at {url} is not a JSON object")
    return document


class _WebFinger:
    """JRD lookups for one resolution: remembered by acct and capped, so loops cannot spin."""

    MAX_LOOKUPS = 2

    def __init__(self, get_jrd: GetJson, scheme: str) -> None:
        self._get_jrd = get_jrd
        self._scheme = scheme
        self._seen: dict[tuple[str, str], Jrd] = {}

    async def lookup(self, name: str, host: str) -> Jrd:
        key = _acct_key(name, host)
        if key in self._seen:
            return self._seen[key]
        if len(self._seen) >= self.MAX_LOOKUPS:
            raise WebFingerError(
                f"acct:{name}@{host} would need more than {self.MAX_LOOKUPS} WebFinger lookups"
            )
        document = await _call(self._get_jrd, webfinger_url(name, host, scheme=self._scheme), "JRD")
        jrd = parse_jrd(document)
        self._seen[key] = jrd
        return jrd


def _subject_handle(jrd: Jrd) -> tuple[str, str] | None:
    # Only an `acct:` subject with a host names another account; Hubzilla sends a bare
    # `acct:name`, and some servers put a URL here: both mean "the account you asked for".
    if jrd.subject is None or not jrd.subject.lower().startswith("acct:"):
        return None
    return parse_handle(jrd.subject)


async def resolve_actor(
    query: str,
    *,
    get_jrd: GetJson,
    get_actor: GetJson,
    scheme: str = "https",
) -> Resolved:
    """Resolves a handle or actor URL to a verified actor; see :func:`resolve`."""
    query = query.strip()
    if query.lower().startswith(("https://", "http://")):
        return await _resolve_url(query, get_actor)

    handle = parse_handle(query)
    if handle is None:
        raise WebFingerError(f"{query!r} is neither a handle like @name@host nor a URL")
    name, host = handle
    webfinger = _WebFinger(get_jrd, scheme)

    first = await webfinger.lookup(name, host)
    if first.self_href is None:
        raise WebFingerError(f"acct:{name}@{host} has no ActivityPub self link")

    # A subject naming another account (often another domain: Mastodon's LOCAL_DOMAIN vs
    # WEB_DOMAIN) is only believed if that account points at the same actor too.
    subject = _subject_handle(first)
    if subject is not None and _acct_key(*subject) != _acct_key(name, host):
        canonical = await webfinger.lookup(*subject)
        if canonical.self_href != first.self_href:
            raise WebFingerError(
                f"acct:{name}@{host} names acct:{subject[0]}@{subject[1]} as its subject, "
                "which points at another actor"
            )

    actor = await _call(get_actor, first.self_href, "actor")
    if not _is_actor(actor):
        raise WebFingerError(f"{first.self_href} is not an ActivityPub actor")
    actor_id: str = actor["id"]
    actor_host = _host_of(actor_id)
    if actor_host is None or actor_host != _host_of(first.self_href):
        raise WebFingerError(f"the actor at {first.self_href} claims a foreign id {actor_id}")

    # Mastodon's round trip: the actor's own host must say that preferredUsername@host is
    # this actor, otherwise any server could hand out anybody's actor under its own handle.
    username = actor.get("preferredUsername")
    if not isinstance(username, str) or not _NAME_RE.fullmatch(username):
        raise WebFingerError(f"the actor {actor_id} has no usable preferredUsername")
    back = await webfinger.lookup(username, actor_host)
    if back.self_href != actor_id:
        raise WebFingerError(
            f"acct:{username}@{actor_host} does not point back at {actor_id} "
            f"(the round trip from acct:{name}@{host} failed)"
        )

    # The handle to show is the one the actor's host vouches for, not the one asked for:
    # another server may point its handle at this actor, but cannot rename it.
    acct = (username, actor_host)
    back_subject = _subject_handle(back)
    if back_subject is not None and _acct_key(*back_subject) == _acct_key(*acct):
        acct = back_subject  # the same account, spelled as its server spells it
    elif back_subject is not None:
        # The actor's host calls the account by another name: believed only if that name
        # points here too (usually it is the handle first asked for, already looked up;
        # a third lookup is refused by the cap).
        other = await webfinger.lookup(*back_subject)
        if other.self_href != actor_id:
            raise WebFingerError(
                f"acct:{back_subject[0]}@{back_subject[1]}, the subject given by "
                f"{actor_host}, does not point at {actor_id}"
            )
        acct = back_subject
    return Resolved(actor_id=actor_id, actor=actor, acct=f"{acct[0]}@{acct[1]}")


async def _resolve_url(url: str, get_actor: GetJson) -> Resolved:
    actor = await _call(get_actor, url, "actor")
    if not _is_actor(actor):
        raise WebFingerError(f"{url} is not an ActivityPub actor")
    actor_id: str = actor["id"]
    if actor_id != url:
        # A profile URL (`/@name`) answers with the actor whose canonical id differs: as
        # Mastodon does, the id is believed only once it has been fetched by that id.
        actor = await _call(get_actor, actor_id, "actor")
        if not _is_actor(actor) or actor["id"] != actor_id:
            raise WebFingerError(f"{url} claims the actor {actor_id}, which denies it")
    return Resolved(actor_id=actor_id, actor=actor, acct=None)


async def resolve(
    query: str,
    *,
    get_jrd: GetJson,
    get_actor: GetJson,
    scheme: str = "https",
) -> str:
    """The verified actor id for ``query``: a handle (``@name@host``) or an http(s) URL.

    A URL is fetched as an actor; if its ``id`` differs, the id is fetched once more and
    must answer with itself. A handle is webfingered at
    ``{scheme}://{host}/.well-known/webfinger``, its AP ``self`` link fetched, and then
    Mastodon's round trip must hold: ``preferredUsername@<host of the actor id>`` webfingers
    back to the same actor id. A JRD whose ``subject`` names another account is followed
    once, and that account must point at the same actor. At most two JRD fetches and one
    actor fetch are made. Raises :class:`WebFingerError` on any failure.
    """
    resolved = await resolve_actor(query, get_jrd=get_jrd, get_actor=get_actor, scheme=scheme)
    return resolved.actor_id
