"""Outgoing documents as ActivityStreams asks for them: no property with an empty array.

Activity Streams 2.0 Core, §2 (Serialization): "If a property has an array value, the
absence of any items in that array MUST be represented by omitting the property entirely or
by setting the value to null." An absent ``tag``, ``attachment``, ``alsoKnownAs``, ``cc``
or ``orderedItems`` means "none", so nothing is lost. Applied where documents leave Gapo:
every ActivityPub answer and every delivery body, so no builder can forget it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["omit_empty_arrays"]


def omit_empty_arrays(value: Any) -> Any:
    """``value`` with every object property whose value is ``[]`` removed, at any depth.

    Entries of an array are never dropped, so no array becomes empty on the way and one
    pass is enough. Everything else (nulls, empty strings, ``@context``) is left as is.
    """
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, list) and not item:
                continue
            kept[key] = omit_empty_arrays(item)
        return kept
    if isinstance(value, list):
        return [omit_empty_arrays(item) for item in value]
    return value
