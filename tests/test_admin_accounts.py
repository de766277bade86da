"""The admin account pages: who may open them, and each moderation action with its reason
and its audit entry."""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.accounts.service import SignupRequest
from instance.db import users as users_q
from tests.helpers.social import account_id, gapo, page, user, write
from tests.helpers.web import AppFactory, post_form, signup

PASSWORD = "a good long passphrase"


async def staff(app: Quart, name: str, role: str = "admin") -> Client:
    """A signed-in client of a new account with `role`."""
    client = await user(app, name)
    await gapo(app).accounts.promote(name, role)
    return client


async def act(client: Client, target: int, action: str, reason: str = "spam") -> object:
    return await post_form(
        client,
        f"/admin/accounts/{target}/action",
        {"action": action, "reason": reason},
        csrf_from=f"/admin/accounts/{target}",
    )


async def test_admin_pages_are_missing_for_everyone_but_staff(app: Quart) -> None:
    """A visitor and a person get the same 404 as for a page that does not exist; the
    menu offers the pages only to staff."""
    person = await user(app, "pat")
    missing = await app.test_client().get("/nothing-here")
    for client in (app.test_client(), person):
        for path in (
            "/admin/accounts",
            "/admin/log",
            f"/admin/accounts/{await account_id(app, 'pat')}",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.status_code == missing.status_code
    assert "Administration" not in await page(person, "/home")
    moderator = await staff(app, "moddy", "moderator")
    assert "Administration" in await page(moderator, "/home")
    assert "@pat" in await page(moderator, "/admin/accounts?q=pat")


async def test_approve_a_pending_sign_up(make_app: AppFactory) -> None:
    """Approval mode: the pending sign-up is listed, approved with a reason, then logs in."""
    app = await make_app(registrations="approval")
    await gapo(app).accounts.signup(
        SignupRequest(username="rooty", email="rooty@example.org", password=PASSWORD),
        role="admin",
        bypass_mode=True,
    )
    admin = app.test_client()
    await post_form(admin, "/login", {"login": "rooty", "password": PASSWORD})
    newcomer = app.test_client()
    assert (await signup(newcomer, "nia")).status_code == 201
    listed = await page(admin, "/admin/accounts?status=pending")
    assert "@nia" in listed
    nia = await account_id(app, "nia")
    response = await act(admin, nia, "approve", "Knows the community")
    assert response.status_code == 302
    login = await post_form(newcomer, "/login", {"login": "nia", "password": PASSWORD})
    assert login.status_code == 302
    log = await page(admin, "/admin/log")
    assert "approve" in log and "@nia" in log and "Knows the community" in log


async def test_every_action_needs_a_reason_and_is_logged(app: Quart) -> None:
    """No reason: 422 and nothing changes. Each action lands in the log with who and why."""
    admin = await staff(app, "rooty")
    await user(app, "sam")
    sam = await account_id(app, "sam")
    refused = await act(admin, sam, "suspend", "   ")
    assert refused.status_code == 422
    assert "Give a reason" in await refused.get_data(as_text=True)
    assert (await gapo(app).accounts.account(sam))["suspended_at"] is None
    for action in (
        "silence",
        "unsilence",
        "force_sensitive",
        "unforce_sensitive",
        "reset_sessions",
        "suspend",
        "unsuspend",
    ):
        response = await act(admin, sam, action, f"because {action}")
        assert response.status_code == 302, (action, await response.get_data(as_text=True))
    entries = await gapo(app).moderation.log(await _user_row(app, "rooty"))
    assert [e.action for e in entries][::-1] == [
        "silence",
        "unsilence",
        "force_sensitive",
        "unforce_sensitive",
        "reset_sessions",
        "suspend",
        "unsuspend",
    ]
    assert {e.actor for e in entries} == {"@rooty"} and {e.target for e in entries} == {"@sam"}
    assert entries[0].reason == "because unsuspend"


async def test_suspension_ends_sessions_and_reset_logs_out(app: Quart) -> None:
    """A suspended person is logged out and cannot log in; a session reset logs out only."""
    admin = await staff(app, "rooty")
    sam_client = await user(app, "sam")
    sam = await account_id(app, "sam")
    assert (await act(admin, sam, "reset_sessions")).status_code == 302
    assert (await sam_client.get("/settings/profile")).status_code in (302, 401)
    again = await post_form(sam_client, "/login", {"login": "sam", "password": PASSWORD})
    assert again.status_code == 302
    assert (await act(admin, sam, "suspend")).status_code == 302
    assert (await sam_client.get("/settings/profile")).status_code in (302, 401)
    refused = await post_form(sam_client, "/login", {"login": "sam", "password": PASSWORD})
    assert refused.status_code == 403


async def test_force_sensitive_hides_posts_behind_a_warning(app: Quart) -> None:
    """Forced sensitive: every post of the account shows its media folded, until lifted."""
    admin = await staff(app, "rooty")
    sam_client = await user(app, "sam")
    post_id = await write(sam_client, "a picture, imagine")
    sam = await account_id(app, "sam")
    await act(admin, sam, "force_sensitive")
    view = await gapo(app).post_reader.view(None, post_id)
    assert view.sensitive
    await act(admin, sam, "unforce_sensitive")
    assert not (await gapo(app).post_reader.view(None, post_id)).sensitive


async def test_roles_limit_who_acts_on_whom(app: Quart) -> None:
    """A moderator may not act on an admin or another moderator, nor anyone on themself."""
    admin = await staff(app, "rooty")
    moderator = await staff(app, "moddy", "moderator")
    await staff(app, "modtwo", "moderator")
    for target in ("rooty", "modtwo", "moddy"):
        response = await act(moderator, await account_id(app, target), "silence")
        assert response.status_code == 403, target
    assert (await act(admin, await account_id(app, "rooty"), "silence")).status_code == 403
    assert (await act(admin, await account_id(app, "moddy"), "silence")).status_code == 302


async def test_account_page_never_shows_private_posts(app: Quart) -> None:
    """The moderator's view of an account lists its public posts only."""
    admin = await staff(app, "rooty")
    sam_client = await user(app, "sam")
    await write(sam_client, "mx-open words")
    await write(sam_client, "mx-friends only", "followers")
    await write(sam_client, "mx-secret @rooty", "direct")
    body = await page(admin, f"/admin/accounts/{await account_id(app, 'sam')}")
    assert "mx-open words" in body
    assert "mx-friends only" not in body and "mx-secret" not in body


async def _user_row(app: Quart, name: str) -> object:
    return await users_q.get_by_username(gapo(app).db, name)


async def test_a_deleted_account_is_not_moderated(app: Quart) -> None:
    """Deletion hides the account as a suspension does; unsuspending it must not bring back
    what its deletion job is removing, so its moderation page is gone."""
    admin = await staff(app, "rooty")
    await user(app, "dana")
    dana = await account_id(app, "dana")
    await gapo(app).accounts.delete("dana")
    assert (await act(admin, dana, "unsuspend")).status_code == 404
    assert (await act(admin, dana, "silence")).status_code == 404
