"""Value-shape helpers shared by the vocabulary views (import them from ``vocab``).

Each helper accepts whatever shape servers actually send and returns one plain
Python shape, or None; none of them raises on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "AS_CONTEXT",
    "PUBLIC",
    "PUBLIC_ALIASES",
    "SECURITY_CONTEXT",
    "VocabError",
    "as_list",
    "first_str",
    "id_of",
    "ids_of",
    "is_public",
    "lang_value",
    "origin_of",
    "parse_datetime",
    "primary_type",
    "types_of",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# The compacted forms some servers send; all three mean the same collection.
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})


class VocabError(ValueError):
    """A document lacks what its kind requires (an actor without inbox, …)."""


def as_list(value: Any) -> list[Any]:
    """``None`` → ``[]``, a list as is (a tuple as a list), anything else → ``[value]``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):  # our own views hold tuples
        return list(value)
    return [value]


def id_of(value: Any) -> str | None:
    """The IRI a value names: a string, an object's ``id`` (or a Link's ``href``).

    For a list, the first entry that names something.
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("id", "href"):
            candidate = value.get(key)
            if isinstance(candidate, str) and candidate:
                return candidate
        return None
    if isinstance(value, list):
        for entry in value:
            found = id_of(entry)
            if found is not None:
                return found
    return None


def ids_of(value: Any) -> list[str]:
    """Every IRI a value names, in order, without duplicates."""
    seen: dict[str, None] = {}
    for entry in as_list(value):
        found = id_of(entry)
        if found is not None:
            seen.setdefault(found, None)
    return list(seen)


def types_of(doc: Any) -> list[str]:
    """The ``type`` of a document as a list of strings (it may be one or many)."""
    if not isinstance(doc, dict):
        return []
    return [t for t in as_list(doc.get("type")) if isinstance(t, str)]


def primary_type(doc: Any, known: Collection[str]) -> str | None:
    """The type a document is handled as: the first of its types in ``known``.

    ``type`` may be one string or a list (``["Note"]``, ``["Create", "as:Create"]``);
    when none is known, the first string type, so callers can name what they ignore.
    """
    types = types_of(doc)
    return next((t for t in types if t in known), types[0] if types else None)


def first_str(value: Any) -> str | None:
    """A string value, or the first string of a list; None otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, str):
                return entry
    return None


def lang_value(doc: dict[str, Any], key: str) -> str | None:
    """``doc[key]`` as a string, falling back to the first entry of ``doc[key + "Map"]``."""
    value = first_str(doc.get(key))
    if value is not None:
        return value
    mapping = doc.get(key + "Map")
    if isinstance(mapping, dict):
        for entry in mapping.values():
            if isinstance(entry, str):
                return entry
    return None


def is_public(addr: str) -> bool:
    """True when an address is the special Public collection, in any spelling."""
    return addr in PUBLIC_ALIASES


# ISO 8601 as found in the wild: "Z", "+00:00", "+0000", no zone, fractions of
# any length, and a space instead of "T".
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


def parse_datetime(value: Any) -> float | None:
    """Epoch seconds (UTC) from an ISO 8601 string; a missing zone is taken as UTC."""
    if not isinstance(value, str):
        return None
    match = _DATETIME_RE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    seconds = moment.timestamp()
    if fraction:
        seconds += int(fraction[:6].ljust(6, "0")) / 1_000_000
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        seconds -= sign * offset
    return seconds


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower-cased, the default port left out.

    Raises ``VocabError`` (a ``ValueError``) when ``url`` has no scheme or host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise VocabError(f"not a URL: {url!r}") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        raise VocabError(f"not an absolute URL: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
