"""Each registration mode (open, approval, invite, closed) through the real app."""

from __future__ import annotations

from tests.helpers.web import AppFactory, count_rows, post_form, signup, user_rows

PASSWORD = "a good long passphrase"


async def counts(app) -> tuple[int, int, int]:
    """(accounts, users, key pairs): what a sign-up writes."""
    return (
        await count_rows(app, "accounts"),
        await count_rows(app, "users"),
        await count_rows(app, "keypairs"),
    )


async def login(client, name: str) -> object:
    return await post_form(client, "/login", {"login": name, "password": PASSWORD})


async def test_open_mode_signs_up_and_logs_in(make_app: AppFactory) -> None:
    """In open mode a sign-up creates an approved user who is logged in at once."""
    app = await make_app(registrations="open")
    client = app.test_client()
    response = await signup(client, "an")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    [user] = await user_rows(app)
    assert user["approved"] == 1 and user["role"] == "user"
    assert "@an" in await (await client.get("/")).get_data(as_text=True)


async def test_approval_mode_waits_for_admin(make_app: AppFactory) -> None:
    """In approval mode sign-up shows a pending page and login is refused until approved."""
    app = await make_app(registrations="approval")
    client = app.test_client()
    form = await (await client.get("/signup")).get_data(as_text=True)
    assert "reviews each sign-up" in form
    response = await signup(client, "binh")
    assert response.status_code == 201
    text = await response.get_data(as_text=True)
    assert "Thank you for signing up" in text and "@binh" in text
    assert "gapo_session=" not in " ".join(response.headers.get_all("Set-Cookie"))

    refused = await login(client, "binh")
    assert refused.status_code == 403
    assert "waiting for an administrator" in await refused.get_data(as_text=True)
    assert await count_rows(app, "sessions") == 0

    await app.extensions["gapo"].accounts.approve("binh")
    allowed = await login(client, "binh")
    assert allowed.status_code == 302
    assert "@binh" in await (await client.get("/")).get_data(as_text=True)


async def test_invite_mode_needs_a_valid_unused_code(make_app: AppFactory) -> None:
    """In invite mode no code, a bad code or a spent code is refused with no row written."""
    app = await make_app(registrations="invite")
    client = app.test_client()
    empty = await counts(app)  # the instance's own actor may already exist
    form = await (await client.get("/signup")).get_data(as_text=True)
    assert 'name="invite"' in form

    missing = await signup(client, "chi")
    assert missing.status_code == 422
    assert "invite code is needed" in await missing.get_data(as_text=True)

    bad = await signup(client, "chi", invite="not-a-real-code")
    assert bad.status_code == 422
    assert "not valid or has been used up" in await bad.get_data(as_text=True)
    assert await counts(app) == empty

    code = await app.extensions["gapo"].accounts.create_invite()
    good = await signup(client, "chi", invite=code)
    assert good.status_code == 302
    await post_form(client, "/logout", {})

    again = await signup(client, "dung", invite=code)
    assert again.status_code == 422
    assert "not valid or has been used up" in await again.get_data(as_text=True)
    assert [u["username"] for u in await user_rows(app)] == ["chi"]
    # No key pair yet: it is made when the actor first federates (test_lazy_keys.py).
    assert await counts(app) == (empty[0] + 1, empty[1] + 1, empty[2])
    db = app.extensions["gapo"].db
    assert await db.fetch_value("SELECT uses FROM invites WHERE code = :c", {"c": code}) == 1


async def test_invite_not_spent_when_signup_fails(make_app: AppFactory) -> None:
    """A valid code sent with a taken username stays unused for the next person."""
    app = await make_app(registrations="invite")
    accounts = app.extensions["gapo"].accounts
    client = app.test_client()
    code = await accounts.create_invite()
    first = await signup(client, "em", invite=code)
    assert first.status_code == 302
    await post_form(client, "/logout", {})
    code2 = await accounts.create_invite()
    taken = await signup(client, "em", invite=code2, email="other@example.org")
    assert taken.status_code == 409
    db = app.extensions["gapo"].db
    assert await db.fetch_value("SELECT uses FROM invites WHERE code = :c", {"c": code2}) == 0


async def test_closed_mode_refuses(make_app: AppFactory) -> None:
    """In closed mode the form says so and a sign-up POST is answered 403 with no row."""
    app = await make_app(registrations="closed")
    client = app.test_client()
    form = await (await client.get("/signup")).get_data(as_text=True)
    assert "Sign-ups are closed" in form
    response = await signup(client, "giang")
    assert response.status_code == 403
    assert "Sign-ups are closed" in await response.get_data(as_text=True)
    assert await user_rows(app) == []
