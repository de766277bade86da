"""`next` is checked before the action, the CSRF token changes at log-in, HSTS on https."""

from __future__ import annotations

from quart import Quart

from tests.helpers.social import account_id, act, user
from tests.helpers.web import AppFactory, count_rows, csrf_of, post_form, signup

PASSWORD = "a good long passphrase"
HOSTILE_NEXTS = [
    "/home\r\nSet-Cookie: planted=1",
    "/home\nX-Evil: 1",
    "/\t/evil.example/",
    "/\x00",
    "/x\x7f",
    "/é",
    " /home",
]


async def test_login_with_control_characters_in_next(client, app: Quart) -> None:
    """A CR/LF (or any control character) in `next` used to give a 500 after the session row
    was written; now the login goes to the home feed, with its cookie, and the row matches it."""
    await signup(client, "giang")
    await post_form(client, "/logout", {}, csrf_from="/")
    for target in HOSTILE_NEXTS:
        fresh = app.test_client()
        response = await post_form(
            fresh, "/login", {"login": "giang", "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/home"
        assert "planted" not in str(response.headers) and "X-Evil" not in response.headers
        assert any(c.startswith("gapo_session=") for c in response.headers.get_all("Set-Cookie"))
    assert await count_rows(app, "sessions") == len(HOSTILE_NEXTS)


async def test_follow_with_control_characters_in_next(app: Quart) -> None:
    """A follow with a hostile `next` is stored and answered with a redirect to the profile,
    not a 500 after the row was written."""
    ha = await user(app, "ha")
    await user(app, "hai")
    target = await account_id(app, "hai")
    response = await act(ha, "/follow", account_id=str(target), next="/x\r\nSet-Cookie: a=b")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/accounts/{target}"
    assert await count_rows(app, "follows") == 1


async def test_like_and_post_with_hostile_next(app: Quart) -> None:
    """Posting and liking with a hostile `next` land on the post, never on an error."""
    hien = await user(app, "hien")
    posted = await act(hien, "/posts", text="xin chào", visibility="public", next="/\r\n")
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/p/")
    post_id = posted.headers["Location"].rsplit("/", 1)[1]
    liked = await act(hien, f"/p/{post_id}/like", next="/\t/evil.example")
    assert liked.status_code == 302
    assert liked.headers["Location"] == f"/p/{post_id}"


async def test_csrf_token_changes_at_login_and_signup(client) -> None:
    """The token a visitor had before signing up or logging in is refused afterwards."""
    before = await csrf_of(client, "/signup")
    await signup(client, "hoang")
    after_signup = await csrf_of(client, "/")
    assert after_signup != before
    stale = await client.post("/logout", form={"csrf_token": before})
    assert stale.status_code == 403
    await post_form(client, "/logout", {}, csrf_from="/")
    before_login = await csrf_of(client, "/login")
    login = await client.post(
        "/login", form={"login": "hoang", "password": PASSWORD, "csrf_token": before_login}
    )
    assert login.status_code == 302
    assert await csrf_of(client, "/") != before_login
    assert (await client.post("/logout", form={"csrf_token": before_login})).status_code == 403


async def test_hsts_only_on_https(make_app: AppFactory) -> None:
    """An https instance sends Strict-Transport-Security (a year, no includeSubDomains);
    an http one does not (browsers ignore it there, and it would only mislead)."""
    secure = await make_app(base_url="https://social.example")
    response = await secure.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = await make_app()
    assert "Strict-Transport-Security" not in (await plain.test_client().get("/")).headers
