"""HTML or ActivityPub by Accept: ids answer JSON unless HTML is preferred; pages the reverse."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.signatures import sign_cavage
from instance.web.negotiation import prefers_activitypub
from tests.helpers.fake_peer import LOCAL_BASE, LOCAL_HOST, local_user, rsa_pems
from tests.helpers.social import gapo

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AP = "application/activity+json"
# What generic key fetchers and HTTP libraries send (None: no Accept header at all).
GENERIC = [None, "", "application/json", "*/*", "application/json, */*;q=0.5", "application/*"]


@pytest.mark.parametrize(
    ("accept", "for_id", "for_page"),
    [
        (None, True, False),
        ("", True, False),
        ("application/json", True, False),
        ("*/*", True, False),
        ("application/*", True, False),
        (AP, True, True),
        (LD, True, True),
        ("application/ld+json", True, True),
        (BROWSER, False, False),
        ("text/html", False, False),
        ("text/*", False, False),
        ("text/html;q=0.9, application/json", True, False),
        ("text/html;q=0.9, application/activity+json", True, True),
        ("text/html, application/activity+json;q=0.5", False, False),
        ("application/activity+json;q=0, text/html", False, False),
        ("text/html;q=0, */*", True, False),
        ("application/activity+json, text/html", True, True),
        ("image/png", True, False),
        ("not a media type;;;", True, False),
    ],
)
def test_the_one_negotiation(accept: str | None, for_id: bool, for_page: bool) -> None:
    assert prefers_activitypub(accept, canonical=True) is for_id
    assert prefers_activitypub(accept, canonical=False) is for_page


def headers_for(accept: str | None) -> dict[str, str]:
    return {} if accept is None else {"Accept": accept}


def varies_on_accept(response: object) -> bool:
    vary = response.headers.get("Vary", "")  # type: ignore[attr-defined]
    return "accept" in {v.strip().lower() for v in vary.split(",")}


@pytest.mark.parametrize("accept", GENERIC)
async def test_actor_and_key_id_answer_json_to_generic_accept(
    app: Quart, client: Client, accept: str | None
) -> None:
    """The key id `…/users/alice#main-key` reaches us as `/users/alice`: a fetcher sending a
    generic Accept (or none) gets the actor with its key, not a redirect to the HTML profile."""
    await local_user(app, "alice")
    response = await client.get("/users/alice", headers=headers_for(accept))
    assert response.status_code == 200
    assert response.content_type.startswith("application/activity+json")
    assert varies_on_accept(response)
    doc = await response.get_json()
    assert doc["publicKey"]["id"] == f"{LOCAL_BASE}/users/alice#main-key"


async def test_a_signed_key_fetch_with_generic_accept_gets_the_key(
    app: Quart, client: Client
) -> None:
    """As a peer in authorized-fetch mode fetches our key: signed, `Accept: application/json`."""
    await local_user(app, "alice")
    headers = sign_cavage(
        "GET",
        f"{LOCAL_BASE}/users/alice",
        {"Accept": "application/json", "Host": LOCAL_HOST},
        None,
        key_id="https://elsewhere.example/actor#main-key",
        private_key_pem=rsa_pems()[0],
    )
    response = await client.get("/users/alice", headers=headers)
    assert response.status_code == 200
    assert "BEGIN PUBLIC KEY" in (await response.get_json())["publicKey"]["publicKeyPem"]


async def test_browsers_get_html_and_every_answer_varies_on_accept(
    app: Quart, client: Client
) -> None:
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "hello")
    note_id = f"/users/alice/statuses/{post['id']}"
    for path, page in (("/users/alice", "/@alice"), (note_id, f"/@alice/{post['id']}")):
        browser = await client.get(path, headers={"Accept": BROWSER})
        assert browser.status_code == 302
        assert browser.headers["Location"].endswith(page)
        assert varies_on_accept(browser)
        for accept in GENERIC:
            response = await client.get(path, headers=headers_for(accept))
            assert response.status_code == 200, (path, accept)
            assert response.content_type.startswith("application/activity+json")
            assert varies_on_accept(response)
        # The pages themselves are for people: HTML unless ActivityPub is asked for by name.
        for accept in GENERIC:
            response = await client.get(page, headers=headers_for(accept))
            assert response.status_code == 200, (page, accept)
            assert response.content_type.startswith("text/html"), (page, accept)
            assert varies_on_accept(response)
        for accept in (AP, LD):
            response = await client.get(page, headers={"Accept": accept})
            assert response.content_type.startswith("application/activity+json")
            assert varies_on_accept(response)


async def test_missing_ids_answer_json_errors_to_generic_accept(client: Client) -> None:
    response = await client.get("/users/nobody", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.content_type.startswith("application/json")
