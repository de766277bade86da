"""to_ap for a post's activities: Create, Update and Delete of a note, and its tags.

The note document itself is `to_ap.note`; `outbound/note_documents.py` gathers what it
needs (addressees, tags, the parent's id) from the database.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from activitypub.entities import display_form, tag_key
from instance.outbound.to_ap import activity
from instance.urls import LocalUrls


def tag_href(urls: LocalUrls, name: str) -> str:
    """The tag page of a tag in any form: `/tags/<key>`, percent-encoded."""
    return urls.tag(quote(tag_key(name), safe=""))


def hashtag_tag(urls: LocalUrls, name: str) -> dict[str, Any]:
    """The ActivityPub `Hashtag` tag Mastodon expects: href on our host, name with its sign."""
    return {"type": "Hashtag", "href": tag_href(urls, name), "name": f"#{display_form(name)}"}


def mention_tag(href: str, handle: str) -> dict[str, Any]:
    """A `Mention` tag: Mastodon notifies only who is both tagged and addressed."""
    return {"type": "Mention", "href": href, "name": handle}


def create(note: dict[str, Any], *, published: int | None = None) -> dict[str, Any]:
    """Create of a note, at the id Mastodon uses (`<note id>/activity`).

    The note's `@context` becomes the activity's; a note without one (an item of an outbox
    page, whose context covers it) makes an activity without one.
    """
    body = dict(note)
    context = body.pop("@context", None)
    doc = activity(
        "Create",
        f"{body['id']}/activity",
        body["attributedTo"],
        body,
        to=body["to"],
        cc=body["cc"],
        published=published,
        context=context,
    )
    if context is None:
        del doc["@context"]
    return doc


def update(note: dict[str, Any], activity_id: str, *, published: int) -> dict[str, Any]:
    """Update of an edited note (with its `@context`), addressed like the note."""
    body = dict(note)
    context = body.pop("@context")
    return activity(
        "Update",
        activity_id,
        body["attributedTo"],
        body,
        to=body["to"],
        cc=body["cc"],
        published=published,
        context=context,
    )


def delete(note_id: str, actor: str, *, to: list[str], cc: list[str]) -> dict[str, Any]:
    """Delete of a note: its object is a bare Tombstone at the note's id."""
    return activity(
        "Delete", f"{note_id}#delete", actor, {"id": note_id, "type": "Tombstone"}, to=to, cc=cc
    )
