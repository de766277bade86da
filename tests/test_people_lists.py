"""Followers and following lists page on; the instance actor cannot be followed; follow
requests name the person on each button."""

from __future__ import annotations

import re

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

import instance.web.people as people
from tests.helpers.social import account_id, act, at, gapo, user


async def walk(client: Client, path: str) -> list[str]:
    """Every page of a list, following its "Older" links; the pages' HTML."""
    pages: list[str] = []
    while len(pages) < 10:
        response = await client.get(path)
        assert response.status_code == 200
        html = str(await response.get_data(as_text=True))
        pages.append(html)
        match = re.search(r'<a href="(\?max_id=\d+)">Older</a>', html)
        if match is None:
            break
        path = path.split("?", 1)[0] + match.group(1)
    return pages


async def test_followers_and_following_lists_page_with_an_older_link(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people, "PEOPLE_PAGE_SIZE", 2)
    alice = await user(app, "alice")
    alice_id = await account_id(app, "alice")
    fans = ["bob", "carol", "dave", "erin", "frank"]
    for name in fans:
        fan = await user(app, name)
        await act(fan, "/follow", account_id=str(alice_id))
        await act(alice, "/follow", account_id=str(await account_id(app, name)))

    for which in ("followers", "following"):
        pages = await walk(app.test_client(), f"/accounts/{alice_id}/{which}")
        assert len(pages) == 3, which
        listed = [n for html in pages for n in fans if at(app, n) in html]
        assert sorted(listed) == sorted(fans), which
        # Newest follow first: the last fan is on the first page.
        assert at(app, "frank") in pages[0] and at(app, "bob") in pages[-1]
    del alice


async def test_people_list_filtered_by_a_block_does_not_stop_paging(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose people are all hidden from the viewer still leads to the older ones."""
    monkeypatch.setattr(people, "PEOPLE_PAGE_SIZE", 2)
    await user(app, "alice")
    alice_id = await account_id(app, "alice")
    viewer = await user(app, "vera")
    for name in ("bob", "carol", "dave"):
        await act(await user(app, name), "/follow", account_id=str(alice_id))
    # The two newest followers are hidden from Vera.
    for name in ("carol", "dave"):
        await act(viewer, "/block", account_id=str(await account_id(app, name)))
    pages = await walk(viewer, f"/accounts/{alice_id}/followers")
    html = "".join(pages)
    assert at(app, "bob") in html
    assert at(app, "carol") not in html and at(app, "dave") not in html


async def test_the_instance_actor_cannot_be_followed(app: Quart) -> None:
    alice = await user(app, "alice")
    actor_id = int(gapo(app).instance_actor["id"])
    response = await act(alice, "/follow", account_id=str(actor_id))
    assert response.status_code == 403
    assert "You cannot follow this account." in await response.get_data(as_text=True)
    count = await gapo(app).db.fetch_value(
        "SELECT COUNT(*) FROM follows WHERE followee_id = :id", {"id": actor_id}
    )
    assert count == 0


async def test_follow_request_buttons_name_the_person(app: Quart) -> None:
    alice = await user(app, "alice")
    alice_id = await account_id(app, "alice")
    await gapo(app).db.execute("UPDATE accounts SET locked = 1 WHERE id = :id", {"id": alice_id})
    for name in ("bob", "carol"):
        await act(await user(app, name), "/follow", account_id=str(alice_id))
    html = await (await alice.get("/follow_requests")).get_data(as_text=True)
    for name in ("bob", "carol"):
        assert f'aria-label="Approve {at(app, name)}">Approve</button>' in html
        assert f'aria-label="Reject {at(app, name)}">Reject</button>' in html
