"""The post writers as the inbox uses them: behaviour where the local and inbox copies
had drifted apart, one note type list, and whole-or-nothing stored documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from activitypub.vocab import PUBLIC, parse_activity, parse_actor
from instance.federation.from_ap.stored import MAX_STORED_DOCUMENT, stored_document
from instance.federation.handle_notes import handle_delete
from instance.federation.notes_in import NoteRejected
from tests.helpers.fake_peer import local_user
from tests.helpers.social import account_id, gapo, remote_account

FIXTURES = Path(__file__).parent / "fixtures"
GARGRON = "https://mastodon.social/users/Gargron"
BASE = "http://localhost:8000"


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def remote_note(n: int, content: str = "<p>hi</p>", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{GARGRON}/statuses/{n}",
        "type": "Note",
        "attributedTo": GARGRON,
        "content": content,
        "published": "2026-01-01T00:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{GARGRON}/followers"],
        **extra,
    }


async def stored_json(app: Quart, post_id: int) -> str | None:
    value = await gapo(app).db.fetch_value(
        "SELECT ap_json FROM posts WHERE id = :id", {"id": post_id}
    )
    return None if value is None else str(value)


# --- NOTE_TYPES is defined once (activitypub/vocab_note.py) ---


@pytest.mark.parametrize(
    ("name", "retype"),
    [
        ("bookwyrm/object-comment.json", None),
        ("bookwyrm/object-quotation.json", None),
        ("bookwyrm/object-review.json", None),
        # BookWyrm's Review model (type "Review"); its own test fixture serialises an Article.
        ("bookwyrm/object-comment.json", "Review"),
    ],
)
async def test_bookwyrm_objects_the_parser_accepts_are_stored(
    app: Quart, name: str, retype: str | None
) -> None:
    """A BookWyrm Comment, Quotation or Review is a post: the parser and the ingest agree."""
    doc = fixture(name)
    if retype:
        doc["type"] = retype
    actor_doc = fixture("bookwyrm/actor-person.json")
    author_id = doc["attributedTo"]
    if author_id != actor_doc["id"]:  # the review fixture names another user
        actor_doc = json.loads(json.dumps(actor_doc).replace(actor_doc["id"], author_id))
    author = await gapo(app).actors.store(parse_actor(actor_doc))
    post = await gapo(app).federation.notes.ingest(doc, author=author)
    assert post["ap_id"] == doc["id"]
    assert post["account_id"] == author["id"]


async def test_an_unknown_object_type_is_still_refused(app: Quart) -> None:
    author = await remote_account(app)
    with pytest.raises(NoteRejected):
        await gapo(app).federation.notes.ingest(
            {**remote_note(1), "type": "Edition"}, author=author
        )


# --- a stored remote document is whole JSON or nothing ---


def test_stored_document_is_whole_within_the_limit_and_none_above() -> None:
    small = {"id": "https://example.org/n/1", "content": "xin chào ☃"}
    text = stored_document(small)
    assert text is not None and json.loads(text) == small
    big = {"id": "https://example.org/n/2", "content": "x" * MAX_STORED_DOCUMENT}
    assert stored_document(big) is None
    # The limit is in bytes: multi-byte text counts as what it costs on disk.
    wide = {"content": "ệ" * (MAX_STORED_DOCUMENT // 3)}
    assert len(json.dumps(wide, ensure_ascii=False)) < MAX_STORED_DOCUMENT
    assert stored_document(wide) is None


async def test_an_oversized_note_is_stored_without_its_document(app: Quart) -> None:
    """Cut at 200 kB the document used to be invalid JSON; now it is kept whole or not at all."""
    author = await remote_account(app)
    notes = gapo(app).federation.notes
    small = await notes.ingest(remote_note(1), author=author)
    padding = "<p>" + "long words " * 25_000 + "</p>"
    big = await notes.ingest(remote_note(2, padding), author=author)
    kept = await stored_json(app, small["id"])
    assert kept is not None and json.loads(kept)["id"] == remote_note(1)["id"]
    assert await stored_json(app, big["id"]) is None
    assert "long words" in big["content_html"]  # the post itself is whole
    # And an oversized edit replaces the document with none, never with a cut one.
    edited = remote_note(1, padding, updated="2026-01-02T00:00:00Z")
    await notes.update(edited, GARGRON)
    assert await stored_json(app, small["id"]) is None
    for value in await gapo(app).db.fetch_all("SELECT ap_json FROM posts"):
        if value["ap_json"] is not None:
            json.loads(value["ap_json"])


# --- where the local and the inbox copies had drifted ---


async def test_a_repeated_remote_delete_counts_the_reply_off_once(app: Quart) -> None:
    """Peers resend Deletes (under new ids); the parent's reply count drops by one, not two."""
    alice = await local_user(app, "alice")
    author = await remote_account(app)
    parent = await gapo(app).posts.create(alice, "a question")
    other = await gapo(app).federation.notes.ingest(
        remote_note(1, inReplyTo=f"{BASE}/users/alice/statuses/{parent['id']}"), author=author
    )
    reply = await gapo(app).federation.notes.ingest(
        remote_note(2, inReplyTo=f"{BASE}/users/alice/statuses/{parent['id']}"), author=author
    )
    assert other["in_reply_to_id"] == reply["in_reply_to_id"] == parent["id"]
    assert (await gapo(app).posts.get_visible(None, parent["id"]))["replies_count"] == 2
    ctx = gapo(app).federation
    for n in (1, 2):
        delete = parse_activity(
            {
                "id": f"{GARGRON}/statuses/2#delete-{n}",
                "type": "Delete",
                "actor": GARGRON,
                "object": reply["ap_id"],
            }
        )
        outcome = await handle_delete(ctx, delete, author)
        assert outcome == ("post deleted" if n == 1 else "ignored: already deleted")
    assert (await gapo(app).posts.get_visible(None, parent["id"]))["replies_count"] == 1


async def test_a_remote_edit_that_adds_a_mention_tells_and_addresses_them(app: Quart) -> None:
    """As a local edit does: the newly mentioned person is told and may see the post."""
    await local_user(app, "alice")
    author = await remote_account(app)
    notes = gapo(app).federation.notes
    direct = {"to": [], "cc": []}
    post = await notes.ingest(remote_note(1, "<p>secret</p>", **direct), author=author)
    alice_id = await account_id(app, "alice")
    writer = gapo(app).federation.notes.writer
    assert not await writer.can_see(alice_id, post)
    mention = {"type": "Mention", "href": f"{BASE}/users/alice", "name": "@alice"}
    edited = remote_note(
        1,
        "<p>secret, @alice</p>",
        to=[f"{BASE}/users/alice"],
        cc=[],
        tag=[mention],
        updated="2026-01-02T00:00:00Z",
    )
    updated = await notes.update(edited, GARGRON)
    assert updated is not None
    kinds = [n.kind for n in await gapo(app).notifications.list(alice_id)]
    assert kinds == ["mention"]
    assert await writer.can_see(alice_id, updated)
