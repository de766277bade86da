"""A reply always reaches the person answered; edits and deletes follow the same addressees."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import PUBLIC
from tests.helpers.social import deliveries, gapo, remote_account, user
from tests.helpers.web import post_form

AP_ACCEPT = {"Accept": "application/activity+json"}
GARGRON = "https://mastodon.social/users/Gargron"


async def reply(client: Client, parent_id: int, text: str, visibility: str) -> None:
    response = await post_form(
        client,
        "/posts",
        {"text": text, "visibility": visibility, "in_reply_to": str(parent_id)},
        csrf_from="/home",
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)


async def newest_post_id(app: Quart, username: str) -> int:
    account = await gapo(app).accounts.profile(username)
    return int(
        await gapo(app).db.fetch_value(
            "SELECT MAX(id) AS id FROM posts WHERE account_id = :a", {"a": account["id"]}
        )
    )


async def remote_parent(app: Quart) -> tuple[Any, Any]:
    gargron = await remote_account(app)
    note = {
        "id": f"{GARGRON}/statuses/42",
        "type": "Note",
        "attributedTo": GARGRON,
        "content": "<p>a question from far away</p>",
        "published": "2024-05-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{GARGRON}/followers"],
    }
    post = await gapo(app).federation.notes.ingest(note, author=gargron)
    return gargron, post


async def test_private_replies_reach_the_local_author_without_a_mention(app: Quart) -> None:
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    parent = await gapo(app).posts.create(
        await gapo(app).accounts.profile("alice"), "public question"
    )
    for visibility in ("followers", "direct"):
        await reply(bob, parent["id"], f"a {visibility} answer", visibility)
        reply_id = await newest_post_id(app, "bob")
        response = await alice.get(f"/p/{reply_id}")
        assert response.status_code == 200, visibility
        thread = await (await alice.get(f"/p/{parent['id']}")).get_data(as_text=True)
        assert f"a {visibility} answer" in thread
        # A stranger still sees nothing of it.
        assert (await app.test_client().get(f"/p/{reply_id}")).status_code == 404
    notes = await (await alice.get("/notifications")).get_data(as_text=True)
    assert notes.count("replied to your post") == 2


async def test_reply_to_a_remote_post_tags_and_addresses_its_author(app: Quart) -> None:
    gargron, parent = await remote_parent(app)
    alice = await user(app, "alice")
    inboxes = {gargron["ap_inbox"], gargron["ap_shared_inbox"]}
    for visibility in ("public", "followers", "direct"):
        await reply(alice, parent["id"], f"answer, {visibility}", visibility)
        reply_id = await newest_post_id(app, "alice")
        [create] = [
            d
            for d in await deliveries(app, "Create")
            if d["activity"]["object"]["id"].endswith(f"/{reply_id}") and d["inbox"] in inboxes
        ]
        obj = create["activity"]["object"]
        assert obj["inReplyTo"] == parent["ap_id"]
        assert {"type": "Mention", "href": GARGRON, "name": "@Gargron@mastodon.social"} in obj[
            "tag"
        ]
        assert GARGRON in obj["to"] + obj["cc"], visibility


async def test_deleting_a_reply_tells_the_remote_parent_author(app: Quart) -> None:
    gargron, parent = await remote_parent(app)
    alice = await user(app, "alice")
    await reply(alice, parent["id"], "I take it back", "public")
    reply_id = await newest_post_id(app, "alice")
    response = await post_form(alice, f"/p/{reply_id}/delete", {}, csrf_from="/home")
    assert response.status_code in (302, 303)
    inboxes = {gargron["ap_inbox"], gargron["ap_shared_inbox"]}
    assert any(d["inbox"] in inboxes for d in await deliveries(app, "Delete"))


async def test_edit_that_drops_a_mention_drops_the_addressee(app: Quart) -> None:
    alice = await user(app, "alice")
    mia = await user(app, "mia")
    post = await gapo(app).posts.create(
        await gapo(app).accounts.profile("alice"), "psst @mia", visibility="direct"
    )
    assert (await mia.get(f"/p/{post['id']}")).status_code == 200
    response = await post_form(
        alice, f"/p/{post['id']}/edit", {"text": "never mind"}, csrf_from="/home"
    )
    assert response.status_code in (302, 303)
    assert (await mia.get(f"/p/{post['id']}")).status_code == 404


async def test_someone_elses_post_cannot_be_edited_or_deleted_and_looks_missing(
    app: Quart,
) -> None:
    await user(app, "alice")
    bob = await user(app, "bob")
    post = await gapo(app).posts.create(await gapo(app).accounts.profile("alice"), "mine")
    for action, form in (("edit", {"text": "yours now"}), ("delete", {})):
        theirs = await post_form(bob, f"/p/{post['id']}/{action}", form, csrf_from="/home")
        missing = await post_form(bob, f"/p/999999999/{action}", form, csrf_from="/home")
        assert theirs.status_code == missing.status_code == 404
        theirs_body = await theirs.get_data(as_text=True)
        missing_body = await missing.get_data(as_text=True)
        assert theirs_body.replace(str(post["id"]), "N") == missing_body.replace("999999999", "N")


async def test_edit_to_empty_text_says_so(app: Quart) -> None:
    alice = await user(app, "alice")
    post = await gapo(app).posts.create(await gapo(app).accounts.profile("alice"), "first")
    response = await post_form(alice, f"/p/{post['id']}/edit", {"text": "  "}, csrf_from="/home")
    assert response.status_code == 422
    assert "Write something first." in await response.get_data(as_text=True)


async def test_reply_form_names_the_author_and_keeps_audience_and_warning(app: Quart) -> None:
    await user(app, "alice")
    bob = await user(app, "bob")
    parent = await gapo(app).posts.create(
        await gapo(app).accounts.profile("alice"), "careful", visibility="unlisted", summary="cw"
    )
    html = await (await bob.get(f"/p/{parent['id']}")).get_data(as_text=True)
    assert ">@alice </textarea>" in html
    assert re.search(r'<input type="radio" [^>]*value="unlisted"[^>]* checked>', html)
    assert 'name="summary" maxlength="500" value="cw"' in html


async def test_shares_carry_published_and_keep_an_unlisted_post_unlisted(app: Quart) -> None:
    gargron, public_post = await remote_parent(app)
    unlisted_doc = {
        "id": f"{GARGRON}/statuses/43",
        "type": "Note",
        "attributedTo": GARGRON,
        "content": "<p>quietly said</p>",
        "published": "2024-05-01T11:00:00Z",
        "to": [f"{GARGRON}/followers"],
        "cc": [PUBLIC],
    }
    unlisted_post = await gapo(app).federation.notes.ingest(unlisted_doc, author=gargron)
    assert unlisted_post["visibility"] == "unlisted"
    bob = await user(app, "bob")
    for post in (public_post, unlisted_post):
        response = await post_form(bob, f"/p/{post['id']}/share", {}, csrf_from="/home")
        assert response.status_code in (302, 303)
    announces = {d["activity"]["object"]: d["activity"] for d in await deliveries(app, "Announce")}
    shared_public, shared_unlisted = announces[public_post["ap_id"]], announces[unlisted_doc["id"]]
    assert "published" in shared_public and "published" in shared_unlisted
    assert shared_public["to"] == [PUBLIC] and GARGRON in shared_public["cc"]
    assert PUBLIC not in shared_unlisted["to"] and PUBLIC in shared_unlisted["cc"]
    assert GARGRON in shared_unlisted["cc"]


async def test_quick_successive_edits_have_increasing_updated(app: Quart) -> None:
    await user(app, "alice")
    author = await gapo(app).accounts.profile("alice")
    post = await gapo(app).posts.create(author, "v1")
    first = await gapo(app).posts.edit(author, post["id"], "v2")
    second = await gapo(app).posts.edit(author, post["id"], "v3")
    assert post["created_at"] < first["updated_at"] < second["updated_at"]
