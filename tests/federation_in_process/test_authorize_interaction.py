"""`/authorize_interaction?uri=…`, the remote-interaction page WebFinger advertises.

A real loopback peer serves the remote actor and note; the app fetches them through its
SSRF-guarded client (loopback allowed in these tests only) and sends the reader to the
page where they can follow, answer, like or share.
"""

from __future__ import annotations

from urllib.parse import quote

from quart import Quart

from tests.helpers.fake_peer import FakePeer
from tests.helpers.social import gapo, user, write

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(peer: FakePeer, path: str = "/users/remote/statuses/1") -> dict[str, object]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.base_url}{path}",
        "type": "Note",
        "attributedTo": peer.actor_id("remote"),
        "content": "<p>interact with me</p>",
        "published": "2026-11-30T10:00:00Z",
        "to": [PUBLIC],
    }


async def _go(client: object, uri: str) -> object:
    return await client.get(f"/authorize_interaction?uri={quote(uri, safe='')}")  # type: ignore[attr-defined]


async def test_a_visitor_logs_in_first_and_comes_back_with_the_uri(app: Quart) -> None:
    client = app.test_client()
    response = await client.get("/authorize_interaction?uri=acct%3Aremote%40example.org")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert "authorize_interaction" in location and "uri" in location


async def test_a_remote_post_is_fetched_and_opened(app: Quart, peer: FakePeer) -> None:
    note = _note(peer)
    peer.extra_docs["/users/remote/statuses/1"] = note
    client = await user(app, "an")
    response = await _go(client, str(note["id"]))
    assert response.status_code == 302  # type: ignore[attr-defined]
    post = await gapo(app).federation.notes.ingest(note)  # already stored: returns it
    assert response.headers["Location"] == f"/p/{post['id']}"  # type: ignore[attr-defined]
    page = await client.get(response.headers["Location"])  # type: ignore[attr-defined]
    body = await page.get_data(as_text=True)
    assert "interact with me" in body
    assert peer.gets.count("/users/remote/statuses/1") == 1


async def test_a_remote_account_by_uri_or_handle_opens_its_profile(
    app: Quart, peer: FakePeer
) -> None:
    client = await user(app, "an")
    by_url = await _go(client, peer.actor_id("remote"))
    assert by_url.status_code == 302  # type: ignore[attr-defined]
    location = by_url.headers["Location"]  # type: ignore[attr-defined]
    assert location.startswith("/accounts/")
    profile = await (await client.get(location)).get_data(as_text=True)
    assert "Follow" in profile or "Theo dõi" in profile


async def test_local_post_and_local_account(app: Quart) -> None:
    client = await user(app, "an")
    post_id = await write(client, "ours")
    urls = gapo(app).urls
    by_note = await _go(client, urls.note("an", post_id))
    assert by_note.headers["Location"] == f"/p/{post_id}"  # type: ignore[attr-defined]
    by_acct = await _go(client, f"acct:an@{gapo(app).settings.host}")
    assert by_acct.headers["Location"] == "/@an"  # type: ignore[attr-defined]


async def test_unreadable_uris_get_a_404_with_a_reason(app: Quart, peer: FakePeer) -> None:
    client = await user(app, "an")
    for uri in ("", "javascript:alert(1)", f"{peer.base_url}/nothing-here", "a\r\nb"):
        response = await _go(client, uri)
        assert response.status_code == 404, uri  # type: ignore[attr-defined]
        text = await response.get_data(as_text=True)  # type: ignore[attr-defined]
        reasons = ("account or a post", "could not be reached", "No account matches")
        assert any(reason in text for reason in reasons), uri
