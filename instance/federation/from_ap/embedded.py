"""from_ap for embedded objects: what an activity carries inside it, and whether to trust it.

An inbox activity may embed its object. These two questions are asked of that raw JSON
before it is parsed as a note or an actor, and they are asked here only.
"""

from __future__ import annotations

from typing import Any

from activitypub.vocab import (
    ACTOR_TYPES,
    NOTE_TYPES,
    VocabError,
    attributed_actor_ids,
    id_of,
    origin_of,
    primary_type,
)


def is_actor_document(doc: dict[str, Any]) -> bool:
    """True when the document is an actor (its `type` may be a string or a list)."""
    return primary_type(doc, ACTOR_TYPES | NOTE_TYPES) in ACTOR_TYPES


def trusted_embedded(obj: Any, signer_ap_id: str) -> dict[str, Any] | None:
    """An embedded object we may take as sent: one the signer authored, on its own host.

    Anything else (a neighbour's post on the signer's host, a Group's copy of a member's
    post) is fetched from its origin by id, never trusted as relayed.
    """
    object_id = id_of(obj)
    if not isinstance(obj, dict) or object_id is None:
        return None
    if signer_ap_id not in attributed_actor_ids(obj.get("attributedTo")):
        return None
    try:
        same_host = origin_of(object_id) == origin_of(signer_ap_id)
    except VocabError:
        return None
    return obj if same_host else None
