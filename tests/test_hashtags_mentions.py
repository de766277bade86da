"""Hashtags, mentions and language of posts: stored, rendered, federated, listed on tag pages."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import PUBLIC
from instance.errors import NotFound
from instance.outbound.note_documents import NoteDocuments
from tests.helpers.fake_peer import rsa_pems
from tests.helpers.social import deliveries, gapo, page, remote_account, user, write
from tests.helpers.web import AppFactory, count_rows, post_form, signup

AP_ACCEPT = {"Accept": "application/activity+json"}
BASE = "http://localhost:8000"
GARGRON = "https://mastodon.social/users/Gargron"


async def note_of(client: Client, username: str, post_id: int) -> dict[str, Any]:
    response = await client.get(f"/users/{username}/statuses/{post_id}", headers=AP_ACCEPT)
    assert response.status_code == 200
    return dict(await response.get_json())


async def stored_post(app: Quart, post_id: int) -> Any:
    return await gapo(app).db.fetch_one(
        "SELECT content_html, language FROM posts WHERE id = :id", {"id": post_id}
    )


async def test_one_tag_whatever_the_case_or_normal_form(app: Quart) -> None:
    """`#ViệtNam` and `#việtnam` posts are one tag, listed under any spelling of its name."""
    alice = await user(app, "alice")
    await write(alice, "Xin chào #ViệtNam")
    await write(alice, "yêu #việtnam lắm")
    anonymous = app.test_client()
    decomposed = unicodedata.normalize("NFD", "việtnam")
    for name in ("việtnam", "ViệtNam", "VIỆTNAM", decomposed, quote("việtnam")):
        body = await page(anonymous, f"/tags/{name}")
        assert "Xin chào" in body and "yêu" in body, name
        # Newest first.
        assert body.index("yêu") < body.index("Xin chào")
    assert await count_rows(app, "hashtags") == 1
    row = await gapo(app).db.fetch_one("SELECT name_key, display_name FROM hashtags")
    assert (row["name_key"], row["display_name"]) == ("việtnam", "ViệtNam")
    assert await count_rows(app, "post_hashtags") == 2


async def test_tag_is_rendered_as_a_link_to_its_page(app: Quart) -> None:
    """The stored HTML links the tag to `/tags/<key>` with Mastodon's classes and rel=tag."""
    alice = await user(app, "alice")
    post_id = await write(alice, "đi #ViệtNam, not https://example.org/#frag or #123")
    html = (await stored_post(app, post_id))["content_html"]
    href = f"{BASE}/tags/{quote('việtnam', safe='')}"
    assert f'<a href="{href}" class="mention hashtag" rel="tag">#<span>ViệtNam</span></a>' in html
    assert 'href="https://example.org/#frag"' in html
    assert html.count('rel="tag"') == 1


async def test_only_public_posts_are_on_tag_pages(app: Quart) -> None:
    """Unlisted, followers-only and direct posts never appear on a tag page, not even to
    their author or to someone they mention."""
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    await write(alice, "open #secret post")
    for visibility in ("unlisted", "followers", "direct"):
        await write(alice, f"{visibility} words #secret @bob", visibility)
    for viewer in (app.test_client(), alice, bob):
        body = await page(viewer, "/tags/secret")
        assert "open" in body
        for visibility in ("unlisted", "followers", "direct"):
            assert f"{visibility} words" not in body


async def test_tag_page_hides_muted_and_blocked_authors_from_the_viewer(app: Quart) -> None:
    """A mute hides the author's tagged posts from the muter only; a block hides them too."""
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    await write(alice, "alice writes about #cats")
    await write(carol, "carol writes about #cats")
    alice_id = (await gapo(app).accounts.profile("alice"))["id"]
    await post_form(bob, "/mute", {"account_id": str(alice_id)}, csrf_from="/home")
    body = await page(bob, "/tags/cats")
    assert "alice writes about" not in body and "carol writes about" in body
    await post_form(carol, "/block", {"account_id": str(alice_id)}, csrf_from="/home")
    assert "alice writes about" not in await page(carol, "/tags/cats")
    # Everyone else still sees both.
    for viewer in (app.test_client(), alice):
        body = await page(viewer, "/tags/cats")
        assert "alice writes about" in body
    assert "carol writes about" in await page(app.test_client(), "/tags/cats")


async def test_tag_page_pages_by_id_and_unknown_tag_is_empty(app: Quart) -> None:
    """Twenty posts a page, an older-posts link by id; a tag nobody used answers an empty page."""
    alice = await user(app, "alice")
    ids = [await write(alice, f"post number {i:02d} #many") for i in range(21)]
    anonymous = app.test_client()
    first = await page(anonymous, "/tags/many")
    assert "post number 20" in first and "post number 00" not in first
    assert f"?max_id={ids[1]}" in first
    older = await page(anonymous, f"/tags/many?max_id={ids[1]}")
    assert "post number 00" in older and "post number 01" not in older
    assert "?max_id=" not in older
    assert "#nobodyusesthis" in await page(anonymous, "/tags/nobodyusesthis")


async def test_edit_replaces_the_tags(app: Quart) -> None:
    """An edit that drops a tag takes the post off that tag's page and onto the new one."""
    alice = await user(app, "alice")
    post_id = await write(alice, "about #cats")
    response = await post_form(
        alice, f"/p/{post_id}/edit", {"text": "about #dogs", "summary": ""}, csrf_from="/home"
    )
    assert response.status_code in (302, 303)
    anonymous = app.test_client()
    assert "about" not in await page(anonymous, "/tags/cats")
    assert "about" in await page(anonymous, "/tags/dogs")


async def test_outgoing_note_carries_hashtags_and_mentions(app: Quart) -> None:
    """The AP note has Hashtag tags, a Mention tag for @bob and bob's actor in cc."""
    alice = await user(app, "alice")
    await user(app, "bob")
    post_id = await write(alice, "hi @bob, #ViệtNam #日本語 #việtnam")
    note = await note_of(app.test_client(), "alice", post_id)
    bob_actor = f"{BASE}/users/bob"
    assert {"type": "Mention", "href": bob_actor, "name": "@bob@localhost:8000"} in note["tag"]
    hashtags = [t for t in note["tag"] if t["type"] == "Hashtag"]
    assert hashtags == [
        {"type": "Hashtag", "href": f"{BASE}/tags/{quote('việtnam', safe='')}", "name": "#ViệtNam"},
        {"type": "Hashtag", "href": f"{BASE}/tags/{quote('日本語', safe='')}", "name": "#日本語"},
    ]
    assert note["to"] == [PUBLIC]
    assert bob_actor in note["cc"]
    assert (
        f'<span class="h-card"><a href="{BASE}/@bob" class="u-url mention">@<span>bob</span></a>'
        "</span>"
    ) in note["content"]


async def test_direct_note_addresses_the_mentioned_in_to(app: Quart) -> None:
    """A direct post's mentioned account is in `to`, with no public or followers address."""
    alice = await user(app, "alice")
    await user(app, "bob")
    post_id = await write(alice, "psst @bob@localhost:8000", "direct")
    services = gapo(app)
    alice_row = await services.accounts.profile("alice")
    post = await services.post_reader.get_visible(alice_row["id"], post_id)
    note = await NoteDocuments(services.urls).note(services.db, post)
    bob_actor = f"{BASE}/users/bob"
    assert note["to"] == [bob_actor]
    assert note["cc"] == []
    assert {"type": "Mention", "href": bob_actor, "name": "@bob@localhost:8000"} in note["tag"]


async def test_known_remote_mention_is_tagged_addressed_and_delivered(app: Quart) -> None:
    """`@Gargron@mastodon.social`, already stored, becomes a Mention, a cc and a delivery."""
    gargron = await remote_account(app)
    alice = await user(app, "alice")
    post_id = await write(alice, "hello @Gargron@mastodon.social")
    note = await note_of(app.test_client(), "alice", post_id)
    assert {
        "type": "Mention",
        "href": GARGRON,
        "name": "@Gargron@mastodon.social",
    } in note["tag"]
    assert GARGRON in note["cc"]
    html = (await stored_post(app, post_id))["content_html"]
    assert f'<a href="{gargron["ap_url"]}" class="u-url mention">@<span>Gargron</span></a>' in html
    inboxes = {d["inbox"] for d in await deliveries(app)}
    assert inboxes & {gargron["ap_inbox"], gargron["ap_shared_inbox"]}


async def test_mention_on_a_dead_host_does_not_fail_the_post(app: Quart) -> None:
    """An unknown handle on a host that does not exist is left as text; the post is saved."""
    alice = await user(app, "alice")
    post_id = await write(alice, "hi @ghost@nowhere.invalid and #still_tagged")
    html = (await stored_post(app, post_id))["content_html"]
    assert "@ghost@nowhere.invalid" in html and "u-url mention" not in html
    note = await note_of(app.test_client(), "alice", post_id)
    assert [t["type"] for t in note["tag"]] == ["Hashtag"]


class CountingLookup:
    """Stands in for federation.Lookup: counts queries, finds nobody."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def find(self, query: str) -> Any:
        self.queries.append(query)
        raise NotFound()


async def test_remote_resolution_is_bounded_per_post(app: Quart) -> None:
    """At most ten distinct mentions are resolved for one post, however many it names."""
    alice = await user(app, "alice")
    lookup = CountingLookup()
    gapo(app).posts.mentions.lookup = lookup
    text = " ".join(f"@user{i}@host{i}.example" for i in range(25))
    await write(alice, text)
    assert len(lookup.queries) == 10
    assert lookup.queries[0] == "@user0@host0.example"


@pytest.fixture
async def webfinger_peer() -> AsyncIterator[str]:
    """A loopback server answering WebFinger and one actor, `carol`; yields its host."""
    state: dict[str, str] = {}

    def actor_doc() -> dict[str, Any]:
        actor = f"http://{state['host']}/users/carol"
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": "carol",
            "url": f"http://{state['host']}/@carol",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "followers": f"{actor}/followers",
            "publicKey": {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": rsa_pems()[1]},
        }

    async def jrd(request: web.Request) -> web.Response:
        if request.query.get("resource") != f"acct:carol@{state['host']}":
            return web.Response(status=404)
        body = {
            "subject": f"acct:carol@{state['host']}",
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": actor_doc()["id"]}
            ],
        }
        return web.json_response(body, content_type="application/jrd+json")

    async def actor(_: web.Request) -> web.Response:
        return web.json_response(actor_doc(), content_type="application/activity+json")

    server = web.Application()
    server.router.add_get("/.well-known/webfinger", jrd)
    server.router.add_get("/users/carol", actor)
    runner = web.AppRunner(server, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state["host"] = f"127.0.0.1:{runner.addresses[0][1]}"
    yield state["host"]
    await runner.cleanup()


async def test_unknown_remote_mention_resolves_through_webfinger(
    make_app: AppFactory, webfinger_peer: str
) -> None:
    """`@carol@host`, never seen before, is found by WebFinger, stored, tagged and linked."""
    app = await make_app(allow_private_addresses=True)
    alice = await user(app, "alice")
    post_id = await write(alice, f"welcome @carol@{webfinger_peer}!")
    carol = f"http://{webfinger_peer}/users/carol"
    note = await note_of(app.test_client(), "alice", post_id)
    assert {"type": "Mention", "href": carol, "name": f"@carol@{webfinger_peer}"} in note["tag"]
    assert carol in note["cc"]
    html = (await stored_post(app, post_id))["content_html"]
    assert f'<a href="http://{webfinger_peer}/@carol" class="u-url mention">' in html
    assert f"{carol}/inbox" in {d["inbox"] for d in await deliveries(app)}


async def test_remote_note_hashtags_are_stored(app: Quart) -> None:
    """A remote note's Hashtag tags join local ones: `#ViệtNam` from Mastodon ≡ `#việtnam`."""
    gargron = await remote_account(app)
    alice = await user(app, "alice")
    await write(alice, "local #việtnam post")
    note = {
        "id": f"{GARGRON}/statuses/1",
        "type": "Note",
        "attributedTo": GARGRON,
        "content": '<p>remote <a href="https://mastodon.social/tags/vi">#ViệtNam</a></p>',
        "contentMap": {
            "vi": '<p>remote <a href="https://mastodon.social/tags/vi">#ViệtNam</a></p>'
        },
        "published": "2024-05-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{GARGRON}/followers"],
        "tag": [
            {"type": "Hashtag", "href": "https://mastodon.social/tags/vi", "name": "#ViệtNam"},
            {"type": "Hashtag", "href": "https://mastodon.social/tags/x", "name": "#Mastocats"},
            {"type": "Hashtag", "name": "#1234"},
        ],
    }
    row = await gapo(app).federation.notes.ingest(note, author=gargron)
    assert row["language"] == "vi"
    body = await page(app.test_client(), "/tags/việtnam")
    # The posts' own text: bare "local" would match the navigation's /public/local link.
    assert "<p>remote <a" in body and "<p>local <a" in body
    assert "<p>remote <a" in await page(app.test_client(), "/tags/mastocats")
    keys = {r["name_key"] for r in await gapo(app).db.fetch_all("SELECT name_key FROM hashtags")}
    assert keys == {"việtnam", "mastocats"}


async def test_language_round_trip(app: Quart) -> None:
    """The chosen language is stored, sent as contentMap, and marked on the rendered post."""
    alice = await user(app, "alice")
    post_id = await write(alice, "Chào buổi sáng", language="vi")
    assert (await stored_post(app, post_id))["language"] == "vi"
    note = await note_of(app.test_client(), "alice", post_id)
    assert note["contentMap"] == {"vi": note["content"]}
    assert 'lang="vi"' in await page(app.test_client(), f"/p/{post_id}")


async def test_bad_language_is_refused(app: Quart) -> None:
    """A language that is not a language tag is refused (422), nothing stored."""
    alice = await user(app, "alice")
    response = await post_form(
        alice,
        "/posts",
        {"text": "hello", "visibility": "public", "language": "<script>"},
        csrf_from="/home",
    )
    assert response.status_code == 422
    assert await count_rows(app, "posts") == 0


async def test_compose_defaults_to_the_interface_language(app: Quart) -> None:
    """The compose form offers a labelled language select defaulting to the UI locale."""
    alice = await user(app, "alice")
    body = await page(alice, "/home")
    assert '<label for="compose-language">' in body
    assert '<option value="en" lang="en" selected>' in body
    viet = app.test_client()
    vi_headers = {"Accept-Language": "vi"}
    await signup(viet, "viet", request_kwargs={"headers": vi_headers})
    response = await viet.get("/home", headers=vi_headers)
    viet_body = await response.get_data(as_text=True)
    assert '<html lang="vi">' in viet_body
    assert '<option value="vi" lang="vi" selected>' in viet_body
