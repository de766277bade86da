"""Content negotiation between HTML and ActivityPub JSON, decided in one place.

Two kinds of URL answer both:

* **ActivityPub ids** (actors, whose key id ``…#main-key`` is the same URL on the wire, and
  notes): machines fetch them, often with a generic ``Accept`` (``application/json``,
  ``*/*``, or none; some key fetchers send exactly that). They answer JSON unless the
  client prefers HTML, as a browser does (``text/html`` first, ``*/*`` with a lower q).
* **Pages** (``/@name``, ``/@name/<id>``, the ids' ``url``): people open them. They answer
  HTML unless the client names an ActivityPub type and ranks it at least as high as HTML.

* **host-meta** answers XRD, or its JSON form when the Accept header mentions JSON at all
  or ``?format=json`` is given (what clients of RFC 6415 send; no q-values there).

Quality values are read as RFC 9110 §12.5.1 says: the most specific matching range decides
a type's q (so ``text/html;q=0, */*`` refuses HTML), and q=0 means "not acceptable".
"""

from __future__ import annotations

from functools import lru_cache

from quart import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

__all__ = [
    "AP_TYPES",
    "host_meta_as_json",
    "prefers_activitypub",
    "request_prefers_activitypub",
]

AP_TYPES = ("application/activity+json", "application/ld+json")
HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = (*AP_TYPES, "application/json")

Ranges = list[tuple[str, float]]


def _ranges(accept: str | None) -> Ranges:
    """The header's media ranges, parameters dropped (``ld+json; profile=…`` is ld+json)."""
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return [(value.split(";", 1)[0].strip().lower(), float(q)) for value, q in parsed]


def _quality(ranges: Ranges, media_type: str) -> float:
    """The q of ``media_type``: that of the most specific range matching it, else 0."""
    main = media_type.split("/", 1)[0]
    best, quality = -1, 0.0
    for value, q in ranges:
        specificity = {media_type: 2, f"{main}/*": 1, "*/*": 0}.get(value)
        if specificity is not None and specificity > best:
            best, quality = specificity, q
    return quality


# A pure function of two values, and clients send few distinct Accept headers (each peer
# software its own): parsing one with werkzeug took ~9 % of a cached actor GET.
@lru_cache(maxsize=512)
def prefers_activitypub(accept: str | None, *, canonical: bool) -> bool:
    """Whether to answer JSON to this ``Accept`` header.

    ``canonical``: the URL is an ActivityPub id (JSON unless HTML is preferred); otherwise
    it is a page (HTML unless an ActivityPub type is asked for, at least as strongly).
    """
    ranges = _ranges(accept)
    if not ranges:
        return canonical  # no (readable) Accept: the URL's own kind
    html = max(_quality(ranges, t) for t in HTML_TYPES)
    if canonical:
        return max(_quality(ranges, t) for t in JSON_TYPES) >= html
    named = any(value in AP_TYPES and q > 0 for value, q in ranges)
    return named and max(_quality(ranges, t) for t in AP_TYPES) >= html


def request_prefers_activitypub(*, canonical: bool) -> bool:
    """:func:`prefers_activitypub` for the current request."""
    return prefers_activitypub(request.headers.get("Accept"), canonical=canonical)


def host_meta_as_json(accept: str | None, format_arg: str | None) -> bool:
    """Whether ``/.well-known/host-meta`` answers its JSON form rather than XRD."""
    return "json" in (accept or "") or format_arg == "json"
