"""Registrations and instance settings from the admin pages: applied at once (no restart),
in every process on the data dir, and only by admins."""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.accounts.changes import AccountChanges
from instance.accounts.site import SiteSettings, site_changes_path
from instance.db import users as users_q
from tests.helpers.social import gapo, page, user
from tests.helpers.web import post_form, signup


async def staff(app: Quart, name: str, role: str = "admin") -> Client:
    client = await user(app, name)
    await gapo(app).accounts.promote(name, role)
    return client


async def save(client: Client, path: str, form: dict[str, str]) -> object:
    return await post_form(client, path, form, csrf_from=path)


async def test_pause_and_mode_take_effect_at_once(app: Quart) -> None:
    """Paused: the sign-up page says so and a sign-up is refused; resumed in invite mode,
    a code made on the page admits one person."""
    admin = await staff(app, "rooty")
    response = await save(admin, "/admin/registrations", {"registrations": "open", "paused": "on"})
    assert response.status_code == 302
    visitor = app.test_client()
    assert "paused for now" in await page(visitor, "/signup")
    assert (await signup(visitor, "nia")).status_code == 403
    await save(admin, "/admin/registrations", {"registrations": "invite"})
    assert (await signup(visitor, "nia")).status_code == 422  # a code is needed
    await save(admin, "/admin/invites", {"max_uses": "1", "expires_days": "7"})
    [invite] = await gapo(app).site_admin.invites(await _row(app, "rooty"))
    assert invite.code in await page(admin, "/admin/registrations")
    assert (await signup(visitor, "nia", invite=invite.code)).status_code == 302
    log = await page(admin, "/admin/log")
    assert "registrations" in log and "invite_create" in log


async def test_another_process_sees_the_change(app: Quart) -> None:
    """A second reader on the same data dir (another worker) reads the new mode at once."""
    admin = await staff(app, "rooty")
    services = gapo(app)
    other = SiteSettings(
        services.db,
        services.settings,
        AccountChanges(site_changes_path(services.settings.data_dir)),
    )
    assert (await other.get()).registrations == "open"
    await save(admin, "/admin/registrations", {"registrations": "closed"})
    assert (await other.get()).registrations == "closed"


async def test_rules_and_name_show_where_people_see_them(app: Quart) -> None:
    admin = await staff(app, "rooty")
    response = await save(
        admin,
        "/admin/settings",
        {
            "name": "Vườn",
            "description": "A garden",
            "contact": "admin@garden.example",
            "rules": "Be kind\n\n  No harassment  \n",
            "terms": "",
            "default_language": "vi",
        },
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    visitor = app.test_client()
    body = await page(visitor, "/signup")
    assert "<li>Be kind</li>" in body and "<li>No harassment</li>" in body
    assert "Vườn" in body
    # A browser asking for a language we lack gets the instance's default.
    german = await visitor.get("/login", headers={"Accept-Language": "de"})
    assert 'lang="vi"' in await german.get_data(as_text=True)


async def test_only_admins_open_these_pages(app: Quart) -> None:
    moderator = await staff(app, "moddy", "moderator")
    person = await user(app, "pat")
    for client in (moderator, person):
        for path in ("/admin/registrations", "/admin/settings"):
            assert (await client.get(path)).status_code == 404, path
    response = await save(person, "/admin/settings", {"name": "x"})
    assert response.status_code in (403, 404)


async def test_bad_settings_change_nothing(app: Quart) -> None:
    admin = await staff(app, "rooty")
    form = {"registrations": "everyone"}
    assert (await save(admin, "/admin/registrations", form)).status_code == 422
    response = await save(
        admin,
        "/admin/settings",
        {
            "name": "",
            "description": "",
            "contact": "",
            "rules": "",
            "terms": "",
            "default_language": "en",
        },
    )
    assert response.status_code == 422
    assert (await gapo(app).site.get()).name == gapo(app).settings.instance_name


async def _row(app: Quart, name: str) -> object:
    return await users_q.get_by_username(gapo(app).db, name)
