"""Bad input gets a clear 4xx with its reason on the page, never a 500, never a written row."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart

from tests.helpers.web import AppFactory, count_rows, csrf_of, post_form, signup

TABLES = ("accounts", "users", "keypairs", "sessions", "invites")


async def row_counts(app: Quart) -> dict[str, int]:
    return {table: await count_rows(app, table) for table in TABLES}


async def signup_form(client: Any, **fields: str) -> Any:
    return await post_form(client, "/signup", fields, csrf_from="/signup")


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"username": "ngoc", "email": "x@example.org"}, 409, "username is taken"),
        ({"username": "NGOC", "email": "x@example.org"}, 422, "lowercase letters"),
        ({"username": "admin"}, 422, "username is reserved"),
        ({"username": "well_known"}, 422, "username is reserved"),
        ({"username": "bad-name"}, 422, "lowercase letters"),
        ({"username": "tên"}, 422, "lowercase letters"),
        ({"username": "a" * 31}, 422, "lowercase letters"),
        ({"username": ""}, 422, "Choose a username"),
        ({"password": "short1!"}, 422, "at least 10 characters"),
        ({"password": "password123"}, 422, "too easy to guess"),
        ({"password": "aaaaaaaaaaaa"}, 422, "too easy to guess"),
        ({"password": "newuser2026"}, 422, "too easy to guess"),
        ({"password": "x" * 257}, 422, "at most 256 characters"),
        ({"email": "not-an-email"}, 422, "valid email"),
        ({"email": "a@b"}, 422, "valid email"),
        ({"email": "a@@example.org"}, 422, "valid email"),
        ({"email": "a b@example.org"}, 422, "valid email"),
        ({"password": ""}, 422, "at least 10 characters"),
    ],
)
async def test_bad_signup_is_refused_with_reason(
    client, app: Quart, fields: dict[str, str], status: int, reason: str
) -> None:
    """Each kind of bad sign-up gets its 4xx and its reason, and writes nothing."""
    existing = await signup_form(
        client, username="ngoc", email="ngoc@example.org", password="a good long passphrase"
    )
    assert existing.status_code == 302
    await post_form(client, "/logout", {})
    before = await row_counts(app)
    form = {"username": "newuser", "email": "newuser@example.org"}
    form["password"] = "a good long passphrase"
    form.update(fields)
    response = await signup_form(client, **form)
    assert response.status_code == status
    text = await response.get_data(as_text=True)
    assert reason in text
    assert 'role="alert"' in text
    assert 'name="password" type="password"' in text and "a good long passphrase" not in text
    assert await row_counts(app) == before


async def test_missing_fields_are_refused(client, app: Quart) -> None:
    """A sign-up form with no fields at all gets 422 and a reason, and a login one 401."""
    before = await row_counts(app)
    token = await csrf_of(client, "/signup")
    response = await client.post("/signup", form={"csrf_token": token})
    assert response.status_code == 422
    assert "Choose a username" in await response.get_data(as_text=True)
    response = await client.post("/login", form={"csrf_token": token})
    assert response.status_code == 401
    assert "Wrong username or password" in await response.get_data(as_text=True)
    assert await row_counts(app) == before


@pytest.mark.parametrize("path", ["/signup", "/login", "/logout", "/settings/locale"])
@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_missing_or_wrong_csrf_is_refused(
    client, app: Quart, path: str, token: str | None
) -> None:
    """Every form POST without the session's CSRF token gets 403 and changes nothing."""
    await csrf_of(client, "/signup")  # the session now holds a real token
    before = await row_counts(app)
    form = {"username": "evil", "email": "evil@example.org", "password": "xyzzy plugh 42"}
    if token is not None:
        form["csrf_token"] = token
    response = await client.post(path, form=form)
    assert response.status_code == 403
    assert "form expired" in await response.get_data(as_text=True)
    assert await row_counts(app) == before


async def test_csrf_token_of_another_session_is_refused(app: Quart) -> None:
    """A token taken from one visitor's page does not work in another visitor's session."""
    alice, mallory = app.test_client(), app.test_client()
    before = await row_counts(app)
    stolen = await csrf_of(mallory, "/signup")
    await csrf_of(alice, "/signup")
    response = await alice.post(
        "/signup",
        form={
            "username": "victim",
            "email": "v@example.org",
            "password": "a good long passphrase",
            "csrf_token": stolen,
        },
    )
    assert response.status_code == 403
    assert await row_counts(app) == before


async def test_oversized_body_is_413(make_app: AppFactory) -> None:
    """A body over max_body_bytes is answered 413 with a reason, and nothing is written."""
    app = await make_app(max_body_bytes=4096)
    client = app.test_client()
    before = await row_counts(app)
    token = await csrf_of(client, "/signup")
    response = await client.post(
        "/signup",
        form={
            "username": "big",
            "email": "big@example.org",
            "password": "a good long passphrase",
            "bio": "x" * 10_000,
            "csrf_token": token,
        },
    )
    assert response.status_code == 413
    assert "too large" in await response.get_data(as_text=True)
    raw = await client.post(
        "/login", data=b"x" * 10_000, headers={"Content-Type": "application/octet-stream"}
    )
    assert raw.status_code == 413
    assert await row_counts(app) == before


async def test_unknown_route_is_404(client) -> None:
    """An unknown path is 404 with a page, for GET and for POST alike."""
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in await response.get_data(as_text=True)
    assert (await client.post("/no/such/page", form={})).status_code == 404
    assert (await client.get("/@nobody")).status_code == 404


async def test_wrong_method_is_405(client) -> None:
    """A known path with the wrong method is 405 with a reason, not a 500 nor a 404."""
    response = await client.get("/logout")
    assert response.status_code == 405
    assert "not allowed here" in await response.get_data(as_text=True)
    token = await csrf_of(client, "/signup")
    assert (await client.post("/", form={"csrf_token": token})).status_code == 405
    assert (await client.delete("/signup")).status_code == 405


async def test_json_clients_get_json_errors(client) -> None:
    """A client asking for JSON gets the error as JSON with the same status."""
    response = await client.get("/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert (await response.get_json()) == {"error": "Not found."}


form_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
form_bodies = st.dictionaries(
    st.sampled_from(
        [
            "username",
            "email",
            "password",
            "invite",
            "login",
            "next",
            "locale",
            "display_name",
            "bio",
        ]
    ),
    form_text | st.sampled_from(["admin", "a@example.org", "a good long passphrase", "vi", "//x"]),
    max_size=6,
)


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` reproducible examples of a strategy, to send through the async test client."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


@pytest.mark.parametrize("path", ["/signup", "/login", "/settings/locale", "/settings/profile"])
async def test_random_forms_never_500(make_app: AppFactory, path: str) -> None:
    """Random form bodies and raw bodies on every form endpoint get a 4xx or less, never a 500."""
    app = await make_app(signup_rate_per_hour=10_000, login_rate_per_5min=10_000)
    client = app.test_client()
    if path == "/settings/profile":
        assert (await signup(client, "fuzzer")).status_code == 302
    token = await csrf_of(client, "/signup")
    for body, with_token in examples(st.tuples(form_bodies, st.booleans()), 60):
        form = {**body, "csrf_token": token} if with_token else body
        response = await client.post(path, form=form)
        assert response.status_code < 500, (body, await response.get_data(as_text=True))
    raw_bodies = [b"\xff\xfe\x00", b"a=%ZZ&&=&b", b"--x\r\nnot multipart", b"=" * 100]
    for raw in raw_bodies:
        for content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/json",
        ):
            response = await client.post(path, data=raw, headers={"Content-Type": content_type})
            assert response.status_code < 500, (raw, content_type)
