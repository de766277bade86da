"""Collection documents: outbox, followers, following, featured and replies, and their pages.

Pages carry the context; items inside them do not (the page's context covers them).
"""

from __future__ import annotations

from typing import Any

from activitypub.vocab import AS_CONTEXT

# Items per page of an outbox; follower and following pages list twice as many ids.
PAGE_SIZE = 20


def ordered_collection(
    collection_id: str,
    total: int,
    *,
    first: str | None,
    last: str | None = None,
    items: list[Any] | None = None,
) -> dict[str, Any]:
    """An OrderedCollection: its count and the link to its first page, or (``items``) inline."""
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        doc["first"] = first
    if last:
        doc["last"] = last
    if items is not None:
        doc["orderedItems"] = items
    return doc


def ordered_page(
    page_id: str, part_of: str, items: list[Any], *, next_url: str | None, prev_url: str | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_url:
        doc["next"] = next_url
    if prev_url:
        doc["prev"] = prev_url
    return doc


def collection(collection_id: str, *, first: str) -> dict[str, Any]:
    """An unordered Collection that only links its first page (a note's replies)."""
    return {"@context": AS_CONTEXT, "id": collection_id, "type": "Collection", "first": first}


def collection_page(page_id: str, part_of: str, items: list[Any]) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "CollectionPage",
        "partOf": part_of,
        "items": items,
    }
