"""Inbound interop: shapes and rules real peers put on the wire, applied through the inbox.

List-valued types, edits that are no edits, Group boosts of activities, emoji reactions,
article titles and poll options, replies to local posts the replier may not see, and
profile HTML bounds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.html import sanitize_html
from activitypub.vocab import parse_actor, parse_note
from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.federation.from_ap.notes import render_content
from instance.ids import now
from tests.federation_in_process.test_inbox_apply import (
    AS,
    PUBLIC,
    apply,
    note,
    send,
    stored,
    wrap,
)
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, local_user, remote_follower
from tests.helpers.social import gapo

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture(path: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / path).read_text(encoding="utf-8")))


async def result_of(app: Quart, activity: dict[str, Any]) -> str:
    """What the inbox job recorded for the activity (its handler's answer)."""
    row = await gapo(app).db.fetch_one(
        "SELECT result FROM inbox_activities WHERE ap_id = :id", {"id": activity["id"]}
    )
    assert row is not None and row["result"] is not None, "activity was not applied"
    return str(row["result"])


async def remote_row(app: Quart, peer: FakePeer, name: str = "remote") -> Row:
    row = await gapo(app).actors.get_or_fetch(peer.actor_id(name))
    assert row is not None
    return row


def local_note_id(username: str, post_id: int) -> str:
    return f"{LOCAL_BASE}/users/{username}/statuses/{post_id}"


async def receive(
    app: Quart, client: Client, peer: FakePeer, activity: dict[str, Any], name: str = "remote"
) -> None:
    """The peer's actor `name` posts the activity to the inbox, and the inbox job runs."""
    await send(client, peer, activity, name=name)
    await apply(app)


async def block(app: Quart, account: Row, target: Row) -> None:
    """`account` blocks `target`, stored directly."""
    await blocks_q.add(
        gapo(app).db,
        block_id=gapo(app).ids.next_id(),
        account_id=account["id"],
        target_id=target["id"],
        ap_id=None,
        now=now(),
    )


def reply_to_local(
    peer: FakePeer, n: int, content: str, username: str, post_id: int
) -> dict[str, Any]:
    """The peer's note `n`, a reply to the local post `post_id` by `username`."""
    return note(peer, n, content) | {"inReplyTo": local_note_id(username, post_id)}


async def notification_kinds(app: Quart, account: Row) -> list[str]:
    return [n.kind for n in await gapo(app).notifications.list(account["id"])]


# --- 1. list-valued types ---


async def test_list_valued_types_are_handled(app: Quart, client: Client, peer: FakePeer) -> None:
    """`"type": ["Note"]` in a Create, `["Create"]` on the activity and `["Person"]` in an
    Update of the actor are each read by their first known type; nothing crashes."""
    created = {**note(peer, 1, "<p>typed as a list</p>"), "type": ["Note"]}
    create = {**wrap(peer, "Create", created, 1), "type": ["Create"]}
    await receive(app, client, peer, create)
    assert (await result_of(app, create)).startswith("stored post")
    assert "typed as a list" in (await stored(app, created["id"]))["content_html"]

    actor_doc = {**peer.actor_doc("remote"), "type": ["Person"], "name": "Renamed"}
    update = wrap(peer, "Update", actor_doc, 2)
    await receive(app, client, peer, update)
    assert await result_of(app, update) == "actor updated"
    row = await accounts_q.get_by_ap_id(gapo(app).db, peer.actor_id("remote"))
    assert row is not None and row["display_name"] == "Renamed"

    # An actor document sent as a Create's object is recognised through a list too.
    create_actor = wrap(peer, "Create", {**actor_doc, "id": peer.actor_id("remote")}, 3)
    await receive(app, client, peer, create_actor)
    assert await result_of(app, create_actor) == "ignored: Create of an actor"


async def test_undo_with_list_valued_inner_type(app: Quart, client: Client, peer: FakePeer) -> None:
    """Undo{Like} whose Like has `"type": ["Like"]` takes the like back."""
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "like me", visibility="public")
    like = wrap(peer, "Like", local_note_id("alice", post["id"]), 1)
    await receive(app, client, peer, like)
    inner = {k: v for k, v in like.items() if k != "@context"} | {"type": ["Like"]}
    undo = wrap(peer, "Undo", inner, 2)
    await receive(app, client, peer, undo)
    assert await result_of(app, undo) == "undid likes"
    assert (await stored_local(app, post["id"]))["likes_count"] == 0


async def stored_local(app: Quart, post_id: int) -> Row:
    row = await posts_q.get(gapo(app).db, post_id)
    assert row is not None
    return row


# --- 2. Update(Note) ---


async def test_update_keeps_attachment_links(app: Quart, client: Client, peer: FakePeer) -> None:
    """An edit rebuilds the content as ingest does: a document's link stays (an image
    becomes a media row instead, see test_remote_attachments.py)."""
    created = note(peer, 1, "<p>with a paper</p>") | {
        "attachment": [
            {
                "type": "Document",
                "mediaType": "application/pdf",
                "url": "https://cdn.example/a/cat.pdf",
            }
        ]
    }
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    before = (await stored(app, created["id"]))["content_html"]
    assert "https://cdn.example/a/cat.pdf" in before and ">cat.pdf</a>" in before

    edited = {**created, "content": "<p>edited text</p>", "updated": "2025-01-03T00:00:00Z"}
    await receive(app, client, peer, wrap(peer, "Update", edited, 2))
    after = (await stored(app, created["id"]))["content_html"]
    assert "edited text" in after
    assert "https://cdn.example/a/cat.pdf" in after and ">cat.pdf</a>" in after


async def test_update_needs_a_newer_updated(app: Quart, client: Client, peer: FakePeer) -> None:
    """No `updated` (Mastodon's poll-tally Updates): no edit recorded. An older `updated`
    than the stored one does not overwrite newer content."""
    created = note(peer, 1, "<p>original</p>")
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    post = await stored(app, created["id"])

    no_edit = wrap(peer, "Update", {**created, "content": "<p>same post, new tally</p>"}, 2)
    await receive(app, client, peer, no_edit)
    assert (await result_of(app, no_edit)).startswith("ignored")
    assert "original" in (await stored(app, created["id"]))["content_html"]
    assert await posts_q.edits(gapo(app).db, post["id"]) == []

    newer = {**created, "content": "<p>second version</p>", "updated": "2025-01-05T00:00:00Z"}
    await receive(app, client, peer, wrap(peer, "Update", newer, 3))
    older = {**created, "content": "<p>first version</p>", "updated": "2025-01-04T00:00:00Z"}
    stale = wrap(peer, "Update", older, 4)
    await receive(app, client, peer, stale)
    assert (await result_of(app, stale)).startswith("ignored")
    row = await stored(app, created["id"])
    assert "second version" in row["content_html"] and "first version" not in row["content_html"]
    assert len(await posts_q.edits(gapo(app).db, post["id"])) == 1


async def test_updates_within_a_second_compare_at_millisecond_precision(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A typo fix 56 ms after publishing applies; one 20 ms older than the held version
    (out of order) does not; one stamped the same millisecond applies only if it changes
    the text (a repeated delivery is no edit)."""
    created = note(peer, 1, "<p>teh typo</p>") | {"published": "2025-01-02T03:04:05.000Z"}
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    post = await stored(app, created["id"])

    fixed = created | {"content": "<p>the typo</p>", "updated": "2025-01-02T03:04:05.056Z"}
    await receive(app, client, peer, wrap(peer, "Update", fixed, 2))
    assert "the typo" in (await stored(app, created["id"]))["content_html"]

    again = created | {"content": "<p>the typo, fixed twice</p>"}
    later = again | {"updated": "2025-01-02T03:04:05.080Z"}
    await receive(app, client, peer, wrap(peer, "Update", later, 3))
    earlier = created | {"content": "<p>in between</p>", "updated": "2025-01-02T03:04:05.060Z"}
    stale = wrap(peer, "Update", earlier, 4)
    await receive(app, client, peer, stale)
    assert (await result_of(app, stale)).startswith("ignored")
    assert "fixed twice" in (await stored(app, created["id"]))["content_html"]

    repeated = wrap(peer, "Update", later, 5)
    await receive(app, client, peer, repeated)
    assert (await result_of(app, repeated)).startswith("ignored")
    same_ms = later | {"content": "<p>same millisecond, new text</p>"}
    await receive(app, client, peer, wrap(peer, "Update", same_ms, 6))
    assert "same millisecond" in (await stored(app, created["id"]))["content_html"]
    assert len(await posts_q.edits(gapo(app).db, post["id"])) == 3


async def test_update_of_deleted_post_is_ignored(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A late Update after Delete does not bring the post's text back."""
    created = note(peer, 1, "<p>soon gone</p>")
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    await receive(
        app, client, peer, wrap(peer, "Delete", {"id": created["id"], "type": "Tombstone"}, 2)
    )
    late = {**created, "content": "<p>back from the dead</p>", "updated": "2025-01-09T00:00:00Z"}
    update = wrap(peer, "Update", late, 3)
    await receive(app, client, peer, update)
    assert (await result_of(app, update)).startswith("ignored")
    row = await stored(app, created["id"])
    assert row["deleted_at"] is not None and row["content_html"] == ""
    assert await posts_q.edits(gapo(app).db, row["id"]) == []


# --- 3. Announce ---


def page_of(peer: FakePeer, n: int, author: str = "remote") -> dict[str, Any]:
    return {
        "id": f"{peer.base_url}/post/{n}",
        "type": "Page",
        "attributedTo": peer.actor_id(author),
        "to": [peer.actor_id("community"), PUBLIC],
        "name": "A community post",
        "content": "<p>the body</p>",
        "url": f"{peer.base_url}/post/{n}",
        "published": "2025-01-02T03:04:05Z",
    }


async def test_group_announce_of_create_is_a_share(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Lemmy's `Announce{Create{Page}}` from a community on the Page's own host: the
    community is not the Page's author, so the embedded copy is not taken as sent; the Page
    is fetched from its origin by id and the community shares it. An announced activity of
    another kind is no share."""
    page = page_of(peer, 7)
    peer.extra_docs["/post/7"] = page
    create = {
        "id": f"{peer.base_url}/activities/create/7",
        "type": "Create",
        "actor": peer.actor_id("remote"),
        "to": [PUBLIC],
        "object": page | {"content": "<p>what the community says it says</p>"},
    }
    announce = wrap(peer, "Announce", create, 1, actor="community")
    await receive(app, client, peer, announce, name="community")
    assert await result_of(app, announce) == "shared"
    row = await stored(app, page["id"])
    assert "the body" in row["content_html"] and "A community post" in row["content_html"]
    assert "community says" not in row["content_html"]
    assert row["shares_count"] == 1
    assert [p for p in peer.gets if p.startswith("/post/")] == ["/post/7"]

    like = {
        "id": f"{peer.base_url}/activities/like/1",
        "type": "Like",
        "actor": peer.actor_id("remote"),
        "object": page["id"],
    }
    announced_like = wrap(peer, "Announce", like, 2, actor="community")
    await receive(app, client, peer, announced_like, name="community")
    assert (await result_of(app, announced_like)).startswith("ignored")
    assert (await stored(app, page["id"]))["likes_count"] == 0


async def test_announced_create_from_another_host_is_fetched(
    app: Quart, client: Client, peer: FakePeer, other_peer: FakePeer
) -> None:
    """A community on another host embeds someone's Page: the embedded copy is not trusted;
    the Page is fetched from its origin by id."""
    real = page_of(peer, 8) | {"content": "<p>the real text</p>"}
    peer.extra_docs["/post/8"] = real
    forged = real | {"content": "<p>forged text</p>"}
    create = {
        "id": f"{peer.base_url}/activities/create/8",
        "type": "Create",
        "actor": peer.actor_id("remote"),
        "object": forged,
    }
    announce = wrap(other_peer, "Announce", create, 1, actor="community")
    await receive(app, client, other_peer, announce, name="community")
    assert await result_of(app, announce) == "shared"
    assert "/post/8" in peer.gets
    content = (await stored(app, real["id"]))["content_html"]
    assert "the real text" in content and "forged" not in content


async def test_announce_by_blocked_actor_is_not_counted(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A local user blocked the booster: the share is not counted and nobody is notified."""
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "share me", visibility="public")
    await block(app, alice, await remote_row(app, peer))
    announce = wrap(peer, "Announce", local_note_id("alice", post["id"]), 1)
    await receive(app, client, peer, announce)
    assert (await result_of(app, announce)).startswith("ignored")
    assert (await stored_local(app, post["id"]))["shares_count"] == 0
    assert await notification_kinds(app, alice) == []


# --- 4. EmojiReact ---


async def test_emoji_react_is_a_like_and_its_undo_takes_it_back(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Pleroma's EmojiReact counts as a like and notifies; a second emoji changes nothing,
    and undoing it leaves the like; Undo of the first reaction removes it."""
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "react to me", visibility="public")
    shape = fixture("pleroma/activity-emojireact.json")
    first = {
        **{k: shape[k] for k in ("@context", "type", "content")},
        "id": f"{peer.base_url}/users/remote#reactions/1",
        "actor": peer.actor_id("remote"),
        "object": local_note_id("alice", post["id"]),
    }
    second = first | {"id": f"{peer.base_url}/users/remote#reactions/2", "content": "🎉"}
    for activity in (first, second):
        await receive(app, client, peer, activity)
    assert await result_of(app, first) == "liked"
    assert (await stored_local(app, post["id"]))["likes_count"] == 1
    assert await notification_kinds(app, alice) == ["like"]

    strip = ("@context",)
    undo_second = wrap(peer, "Undo", {k: v for k, v in second.items() if k not in strip}, 1)
    await receive(app, client, peer, undo_second)
    assert (await stored_local(app, post["id"]))["likes_count"] == 1

    undo_first = wrap(peer, "Undo", {k: v for k, v in first.items() if k not in strip}, 2)
    await receive(app, client, peer, undo_first)
    assert await result_of(app, undo_first) == "undid likes"
    assert (await stored_local(app, post["id"]))["likes_count"] == 0
    assert await notification_kinds(app, alice) == []


# --- 5. titles, poll options, attachment labels ---


def test_page_title_heads_the_content_linked_and_escaped() -> None:
    """Lemmy's Page: its title first, linked to its page; the Link attachment is labelled
    with its file name, not a media type."""
    html = render_content(parse_note(fixture("lemmy/object-page.json")))
    assert html.startswith(
        '<p><strong><a href="https://enterprise.lemmy.ml/post/55143"'
        ' rel="nofollow noopener noreferrer">Post title</a></strong></p>'
    )
    assert "This is a post in the /c/tenforward community" in html
    assert ">eOtYb9iEiB.png</a>" in html

    hostile = parse_note(
        {
            "id": "https://blog.example/p/1",
            "type": "Article",
            "name": '<script>alert(1)</script> & "quotes"',
            "url": "javascript:alert(2)",
            "content": "<p>body",  # unclosed: must not swallow what follows
            "attachment": [{"type": "Document", "url": "https://blog.example/files/"}],
        }
    )
    html = render_content(hostile)
    assert "<script" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in html
    assert '<a href="https://blog.example/p/1"' in html  # no http(s) url: linked to its id
    assert html.endswith('rel="nofollow noopener noreferrer">files</a></p>')
    assert sanitize_html(html) == html


def test_note_keeps_no_title_and_unlabelled_attachment_is_an_attachment() -> None:
    """A Note's `name` is not a title; an attachment with no alt and no file name reads
    'attachment', never a media type."""
    html = render_content(
        parse_note(
            {
                "id": "https://social.example/n/1",
                "type": "Note",
                "name": "not a title",
                "content": "<p>hi</p>",
                "attachment": [
                    {"type": "Image", "mediaType": "image/jpeg", "url": "https://cdn.example/"}
                ],
            }
        )
    )
    assert "not a title" not in html
    assert ">attachment</a>" in html and "image/jpeg" not in html


def test_question_options_are_listed() -> None:
    """Pleroma's Question shows its options as a list under the text, names escaped."""
    html = render_content(parse_note(fixture("pleroma/object-question.json")))
    assert html == "can you vote on this poll?<ul><li>yes</li><li>no</li></ul>"
    many = parse_note(
        {
            "id": "https://social.example/q/1",
            "type": "Question",
            "content": "<p>pick</p>",
            "anyOf": [{"type": "Note", "name": "<b>bold</b>"}, {"type": "Note", "name": "b"}],
        }
    )
    assert render_content(many).endswith("<ul><li>&lt;b&gt;bold&lt;/b&gt;</li><li>b</li></ul>")


async def test_inbound_article_is_stored_with_its_title(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Through the inbox: the Article's title is the first line of the stored content."""
    article = note(peer, 1, "<p>the article body</p>") | {
        "type": "Article",
        "name": "Big news",
        "url": f"{peer.base_url}/articles/big-news",
    }
    await receive(app, client, peer, wrap(peer, "Create", article, 1))
    html = (await stored(app, article["id"]))["content_html"]
    assert html.startswith(f'<p><strong><a href="{peer.base_url}/articles/big-news"')
    assert html.index("Big news") < html.index("the article body")


# --- 6. replies to local posts ---


async def test_reply_to_post_the_replier_may_not_see_is_not_linked(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A stranger's public reply to a followers-only post: stored unlinked, no reply count,
    no reply notification, and shown no wider than the parent."""
    alice = await local_user(app, "alice")
    parent = await gapo(app).posts.create(alice, "for followers", visibility="followers")
    reply = reply_to_local(peer, 1, "<p>I should not see that</p>", "alice", parent["id"])
    await receive(app, client, peer, wrap(peer, "Create", reply, 1))
    row = await stored(app, reply["id"])
    assert row["in_reply_to_id"] is None
    assert row["visibility"] == "followers"
    assert (await stored_local(app, parent["id"]))["replies_count"] == 0
    assert "reply" not in await notification_kinds(app, alice)
    assert await posts_q.replies_to(gapo(app).db, parent["id"]) == []


async def test_reply_from_blocked_actor_is_not_linked(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The parent's author blocked the replier: the reply is not put under the post."""
    alice = await local_user(app, "alice")
    parent = await gapo(app).posts.create(alice, "public but not for you", visibility="public")
    await block(app, alice, await remote_row(app, peer))
    reply = reply_to_local(peer, 1, "<p>hi anyway</p>", "alice", parent["id"])
    await receive(app, client, peer, wrap(peer, "Create", reply, 1))
    assert (await stored(app, reply["id"]))["in_reply_to_id"] is None
    assert (await stored_local(app, parent["id"]))["replies_count"] == 0
    assert await notification_kinds(app, alice) == []


async def test_public_reply_to_followers_only_post_is_clamped(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A follower's public reply to a followers-only post is linked, but kept at followers
    visibility: not on public pages, not for anonymous readers."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "remote", alice)
    parent = await gapo(app).posts.create(alice, "for followers", visibility="followers")
    reply = reply_to_local(peer, 1, "<p>clamped reply</p>", "alice", parent["id"])
    await send(client, peer, wrap(peer, "Create", reply, 1))
    direct_parent = await gapo(app).posts.create(alice, "just for remote", visibility="direct")
    direct_reply = reply_to_local(
        peer, 2, "<p>reply to a direct post</p>", "alice", direct_parent["id"]
    )
    await receive(app, client, peer, wrap(peer, "Create", direct_reply, 2))

    row = await stored(app, reply["id"])
    assert row["in_reply_to_id"] == parent["id"]
    assert row["visibility"] == "followers"
    assert (await stored_local(app, parent["id"]))["replies_count"] == 1
    anonymous = await client.get(f"/p/{row['id']}")
    assert anonymous.status_code == 404
    assert "clamped reply" not in await (await client.get("/public")).get_data(as_text=True)

    # Not a recipient of the direct post: unlinked, and no wider than direct.
    other = await stored(app, direct_reply["id"])
    assert other["in_reply_to_id"] is None and other["visibility"] == "direct"


async def test_public_reply_to_public_post_stays_public(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The ordinary case is unchanged: linked, counted, notified, public."""
    alice = await local_user(app, "alice")
    parent = await gapo(app).posts.create(alice, "open to all", visibility="public")
    reply = reply_to_local(peer, 1, "<p>an open reply</p>", "alice", parent["id"])
    await receive(app, client, peer, wrap(peer, "Create", reply, 1))
    row = await stored(app, reply["id"])
    assert row["in_reply_to_id"] == parent["id"] and row["visibility"] == "public"
    assert await notification_kinds(app, alice) == ["reply"]


# --- 7. profile HTML bounds ---


async def test_profile_html_is_cut_before_it_is_sanitised(app: Quart) -> None:
    """A link straddling the length bound of a field value or a bio leaves no broken markup:
    the stored HTML is exactly what sanitising it again gives."""
    link = '<a href="https://example.com/somewhere">a link</a>'
    doc = {
        "@context": AS,
        "id": "https://far.example/users/long",
        "type": "Person",
        "preferredUsername": "long",
        "inbox": "https://far.example/users/long/inbox",
        "summary": "b" * 19_990 + link,
        "attachment": [{"type": "PropertyValue", "name": "site", "value": "v" * 1990 + link}],
    }
    row = await gapo(app).actors.store(parse_actor(doc))
    [field] = json.loads(row["fields_json"])
    for html in (field["value_html"], row["note_html"]):
        assert sanitize_html(html) == html
        assert html.count("<a") == html.count("</a>")
