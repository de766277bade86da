"""The server side of WebFinger (RFC 7033) and host-meta (RFC 6415): pure document builders.

Nothing here does I/O or knows the web framework: the instance's handlers parse the
``resource`` parameter with :func:`parse_resource`, look the username up, and answer with
:func:`build_jrd` served as :data:`JRD_CONTENT_TYPE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import quoteattr

JRD_CONTENT_TYPE = "application/jrd+json"
XRD_CONTENT_TYPE = "application/xrd+xml"
# RFC 6415 §3: host-meta.json is served as plain JSON, not as JRD.
HOST_META_JSON_CONTENT_TYPE = "application/json"

AP_MEDIA_TYPE = "application/activity+json"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"

# Broad on purpose: the library answers "which name was asked for"; whether such an account
# exists (and the instance's stricter naming rule) is the caller's lookup to make.
_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with defaults filled in, so `https://h` equals `https://h:443`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _host_key(host: str) -> str:
    """Lower-cased, IDN-encoded host (port kept), so `Exämple.org` matches `xn--exmple-cua.org`."""
    host = host.strip().lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _name_or_none(name: str) -> str | None:
    # Local usernames are case-insensitive for lookups (as on Mastodon): hand back one spelling.
    return name.lower() if _NAME_RE.fullmatch(name) else None


def parse_resource(
    resource: str,
    *,
    host: str,
    base_url: str,
    named_paths: Mapping[str, str] | None = None,
) -> str | None:
    """The local username a WebFinger ``resource`` addresses, or None when it is not ours.

    Accepted: ``acct:name@host`` (host compared case-blind, a leading ``@`` and a missing
    ``acct:`` tolerated, the user part may be percent-encoded as RFC 7565 allows), and the
    actor or profile URL on our origin: ``{base_url}/users/name`` or ``{base_url}/@name``.
    ``named_paths`` maps further paths below ``base_url`` to the one name each stands for,
    e.g. ``{"/actor": "gapo.example"}`` for an instance actor whose name is the host.
    The name comes back lower-cased.
    """
    resource = resource.strip()
    if not resource:
        return None
    lowered = resource.lower()
    if lowered.startswith(("http://", "https://")):
        return _parse_url_resource(resource, base_url, named_paths or {})
    if lowered.startswith("acct:"):
        resource = resource[5:]
    resource = resource.removeprefix("@")
    name, sep, domain = resource.rpartition("@")
    if not sep or not name or not domain:
        return None
    if _host_key(domain) != _host_key(host):
        return None
    return _name_or_none(unquote(name))


def _parse_url_resource(resource: str, base_url: str, named_paths: Mapping[str, str]) -> str | None:
    ours = _origin(base_url)
    theirs = _origin(resource)
    if ours is None or theirs is None or ours != theirs:
        return None
    parts = urlsplit(resource)
    if parts.query or parts.fragment:
        return None
    # base_url may be mounted under a path prefix; the user routes live below it.
    prefix = urlsplit(base_url).path.rstrip("/")
    if not parts.path.startswith(prefix + "/"):
        return None
    rest = parts.path[len(prefix) :]
    if rest in named_paths:
        return _name_or_none(named_paths[rest])
    for route in ("/users/", "/@"):
        if rest.startswith(route):
            return _name_or_none(unquote(rest[len(route) :]))
    return None


def build_jrd(
    *,
    username: str,
    host: str,
    actor_url: str,
    profile_url: str,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The JRD answering ``acct:username@host``, shaped like Mastodon's.

    ``base_url`` (for the remote-follow template) defaults to the origin of ``actor_url``.
    """
    if base_url is None:
        parts = urlsplit(actor_url)
        base_url = f"{parts.scheme}://{parts.netloc}"
    base = base_url.rstrip("/")
    return {
        "subject": f"acct:{username}@{host}",
        "aliases": [profile_url, actor_url],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
            {"rel": "self", "type": AP_MEDIA_TYPE, "href": actor_url},
            {"rel": SUBSCRIBE_REL, "template": f"{base}/authorize_interaction?uri={{uri}}"},
        ],
    }


def build_application_jrd(
    *, name: str, host: str, actor_url: str, profile_url: str | None = None
) -> dict[str, Any]:
    """The JRD answering ``acct:name@host`` for a server-level actor, shaped like Mastodon's.

    Mastodon names its instance actor after the host and, when a signed fetch arrives,
    WebFinger-checks ``preferredUsername@host`` of the signing key's owner: this answer is
    what lets such a peer accept our signed GETs. No remote-follow template: such an
    actor is not followed.
    """
    links: list[dict[str, str]] = []
    if profile_url is not None:
        links.append({"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url})
    links.append({"rel": "self", "type": AP_MEDIA_TYPE, "href": actor_url})
    return {"subject": f"acct:{name}@{host}", "aliases": [actor_url], "links": links}


def lrdd_template(base_url: str) -> str:
    """The WebFinger URL template host-meta advertises; ``{uri}`` is filled in by the client."""
    return f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"


def host_meta_xml(base_url: str) -> str:
    """``/.well-known/host-meta`` as XRD (RFC 6415), pointing clients at our WebFinger."""
    # quoteattr escapes &, < and quotes: a base URL is admin input, the XML must stay valid.
    template = quoteattr(lrdd_template(base_url))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    )


def host_meta_json(base_url: str) -> dict[str, Any]:
    """``/.well-known/host-meta.json``: the same lrdd link as :func:`host_meta_xml`, as JSON."""
    return {"links": [{"rel": "lrdd", "template": lrdd_template(base_url)}]}
