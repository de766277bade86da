"""A web sign-up writes its account, user and session in one transaction: all or nothing."""

from __future__ import annotations

import pytest
from quart import Quart

from instance.accounts.service import SignupRequest
from tests.helpers.web import count_rows, signup


async def test_a_sign_up_comes_with_its_session(make_app: object) -> None:
    app: Quart = await make_app()  # type: ignore[operator]
    client = app.test_client()
    assert (await signup(client, "lan")).status_code == 302
    assert await count_rows(app, "sessions") == 1
    home = await client.get("/home")
    assert home.status_code == 200 and "@lan" in await home.get_data(as_text=True)


async def test_a_pending_sign_up_gets_no_session(make_app: object) -> None:
    app: Quart = await make_app(registrations="approval")  # type: ignore[operator]
    assert (await signup(app.test_client(), "hoa")).status_code == 201
    assert await count_rows(app, "users") == 1
    assert await count_rows(app, "sessions") == 0


async def test_a_failing_session_leaves_no_account(make_app: object) -> None:
    """The session's insert fails: the account and the user roll back with it."""
    app: Quart = await make_app()  # type: ignore[operator]
    services = app.extensions["gapo"]
    before = await count_rows(app, "accounts")

    async def broken(tx: object, user_id: int) -> None:
        raise RuntimeError("the session could not be written")

    with pytest.raises(RuntimeError):
        await services.accounts.signup(
            SignupRequest("minh", "minh@example.org", "a good long passphrase"), then=broken
        )
    assert await count_rows(app, "accounts") == before
    assert await count_rows(app, "users") == 0
    assert services.password_pool.in_flight == 0
