"""Profile fields: edited on /settings/profile, shown on the profile, sent as PropertyValue."""

from __future__ import annotations

import json
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.helpers.fanout import expand_fanouts
from tests.helpers.web import post_form, signup
from tests.test_block_mute import remote_account

AP = "application/activity+json"
XSS_NAME = '<script>alert("n")</script>'
XSS_VALUE = '<img src=x onerror=alert(1)> see https://example.org/me?a=1&b=2 "quoted"'


def profile_form(**fields: str) -> dict[str, str]:
    return {"display_name": "Alice", "bio": "", **fields}


async def save(client: Client, **fields: str) -> Any:
    return await post_form(
        client, "/settings/profile", profile_form(**fields), csrf_from="/settings/profile"
    )


async def actor_json(client: Client, username: str) -> dict[str, Any]:
    response = await client.get(f"/users/{username}", headers={"Accept": AP})
    assert response.status_code == 200
    return dict(json.loads(await response.get_data(as_text=True)))


async def test_fields_round_trip_into_the_actor_with_markup_escaped(app: Quart) -> None:
    """Fields saved in the form appear as PropertyValue: value escaped and linked, no <p>."""
    client = app.test_client()
    await signup(client, "alice")
    response = await save(
        client,
        field_name_0="Website",
        field_value_0="https://example.org/alice",
        field_name_1=XSS_NAME,
        field_value_1=XSS_VALUE,
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)

    doc = await actor_json(client, "alice")
    website, hostile = doc["attachment"]
    assert website == {
        "type": "PropertyValue",
        "name": "Website",
        "value": '<a href="https://example.org/alice" rel="nofollow noopener noreferrer"'
        ' target="_blank">https://example.org/alice</a>',
    }
    # A name is plain text on the wire (as Mastodon sends it); receivers escape it.
    assert hostile["name"] == XSS_NAME
    assert "<img" not in hostile["value"] and "<p>" not in hostile["value"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile["value"]
    assert 'href="https://example.org/me?a=1&amp;b=2"' in hostile["value"]

    page = await (await client.get("/@alice")).get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;" in page
    assert '<a href="https://example.org/alice"' in page

    # The edit form shows the source text again, escaped in its attribute.
    form = await (await client.get("/settings/profile")).get_data(as_text=True)
    assert 'value="https://example.org/alice"' in form
    assert "<script>" not in form


async def test_blank_fields_are_dropped_and_can_be_cleared(app: Quart) -> None:
    """Empty pairs are ignored; saving all blank removes every field."""
    client = app.test_client()
    await signup(client, "alice")
    await save(client, field_name_2="Pronouns", field_value_2="she/her")
    assert [f["name"] for f in (await actor_json(client, "alice"))["attachment"]] == ["Pronouns"]
    await save(client)
    assert "attachment" not in await actor_json(client, "alice")


async def test_overlong_field_is_refused_with_a_reason(app: Quart) -> None:
    """A name over 255 or a value over 2048 characters is a 422 that says why."""
    client = app.test_client()
    await signup(client, "alice")
    for fields, reason in (
        ({"field_name_0": "n" * 256, "field_value_0": "v"}, "at most 255"),
        ({"field_name_0": "n", "field_value_0": "v" * 2049}, "at most 2048"),
        ({"field_name_0": "", "field_value_0": "orphan"}, "name"),
    ):
        response = await save(client, **fields)
        assert response.status_code == 422
        assert reason in await response.get_data(as_text=True)
    assert "attachment" not in await actor_json(client, "alice")


async def test_profile_update_federates_fields(app: Quart) -> None:
    """Saving the profile sends Update(Person) carrying the fields to remote followers."""
    client = app.test_client()
    await signup(client, "alice")
    remote = await remote_account(app)
    alice = await app.extensions["gapo"].accounts.profile("alice")
    writer = app.extensions["gapo"].relationship_writer
    await writer.follow(remote, alice, follow_ap_id="https://x.test/f/1")
    await save(client, field_name_0="Site", field_value_0="https://example.org")
    await expand_fanouts(app.extensions["gapo"])
    rows = await app.extensions["gapo"].db.fetch_all(
        "SELECT payload FROM jobs WHERE kind = 'deliver'"
    )
    updates = [
        json.loads(r["payload"])["activity"]
        for r in rows
        if json.loads(r["payload"])["activity"]["type"] == "Update"
    ]
    assert updates and updates[-1]["object"]["attachment"][0]["name"] == "Site"


async def test_bio_links_urls_mentions_and_tags(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    await signup(app.test_client(), "bob")
    remote = await remote_account(app)
    bio = (
        f"Friends with @bob and @{remote['username']}@{remote['domain']}, "
        "@nobody here. Site: https://example.org/me #ViệtNam <b>bold?</b>"
    )
    response = await save(client, bio=bio)
    assert response.status_code in (302, 303)
    html = await (await client.get("/@alice")).get_data(as_text=True)
    assert 'href="http://localhost:8000/@bob"' in html
    assert f'href="{remote["ap_url"] or remote["ap_id"]}"' in html
    assert 'href="https://example.org/me"' in html
    assert "/tags/vi%E1%BB%87tnam" in html or "/tags/việtnam" in html
    assert "<b>bold?</b>" not in html and "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert ">@nobody<" not in html  # unknown names stay plain text
    summary = (await actor_json(client, "alice"))["summary"]
    assert 'href="http://localhost:8000/@bob"' in summary
