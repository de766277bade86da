"""With GAPO_ONION_ADDRESS, pages for people send `Onion-Location` to the same path on the
onion origin; ActivityPub and WebFinger answers do not, and ids stay on the base URL."""

from __future__ import annotations

import json

import pytest

from instance.config import ConfigError, load_settings
from tests.helpers.web import AppFactory, signup

ONION = "gapoexampleonionaddressforteststhatisfiftysixcharslongxyz.onion"
AP_JSON = {"Accept": "application/activity+json"}


async def test_html_pages_name_the_onion_address(make_app: AppFactory) -> None:
    """The landing page, a profile (with its query) and a 404 page carry the header."""
    app = await make_app(onion_address=ONION)
    client = app.test_client()
    await signup(app.test_client(), "hoa")
    landing = await client.get("/")
    assert landing.headers["Onion-Location"] == f"http://{ONION}/"
    profile = await client.get("/@hoa?page=2")
    assert profile.status_code == 200
    assert profile.headers["Onion-Location"] == f"http://{ONION}/@hoa?page=2"
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["Onion-Location"] == f"http://{ONION}/no/such/page"


async def test_federation_answers_do_not_and_ids_stay_clear_web(make_app: AppFactory) -> None:
    """The actor, WebFinger and NodeInfo answer without the header, and the actor's id is
    built from the base URL, not the onion."""
    app = await make_app(onion_address=ONION, base_url="https://gapo.example")
    client = app.test_client()
    await signup(app.test_client(), "hoa")
    actor = await client.get("/users/hoa", headers=AP_JSON)
    assert actor.status_code == 200
    assert "Onion-Location" not in actor.headers
    assert json.loads(await actor.get_data(as_text=True))["id"] == "https://gapo.example/users/hoa"
    finger = await client.get("/.well-known/webfinger?resource=acct:hoa@gapo.example")
    assert finger.status_code == 200 and "Onion-Location" not in finger.headers
    nodeinfo = await client.get("/.well-known/nodeinfo")
    assert "Onion-Location" not in nodeinfo.headers


async def test_no_onion_address_no_header(app: object) -> None:
    """Without the setting no page sends it."""
    response = await app.test_client().get("/")  # type: ignore[attr-defined]
    assert "Onion-Location" not in response.headers


def test_the_setting_takes_an_onion_host_only() -> None:
    """An onion host (with or without scheme) becomes an origin the server answers on; any
    other host is refused at start."""
    settings = load_settings(environ={"GAPO_ONION_ADDRESS": ONION.upper()})
    assert settings.onion_address == f"http://{ONION}"
    assert f"http://{ONION}" in settings.origins
    assert settings.base_url == "http://localhost:8000"
    with pytest.raises(ConfigError, match="GAPO_ONION_ADDRESS"):
        load_settings(environ={"GAPO_ONION_ADDRESS": "example.org"})


async def test_this_servers_media_is_given_by_path(make_app: AppFactory) -> None:
    """Pages give this server's files as paths, so they load on the onion origin too (the
    CSP allows the page's own origin only); remote files still go through the proxy."""
    from instance.web.context import media_src

    app = await make_app(onion_address=ONION)
    async with app.test_request_context("/"):
        assert media_src("http://localhost:8000/media/ab/cd.webp") == "/media/ab/cd.webp"
        assert media_src("https://remote.example/a.png").startswith("/media/proxy/")
