"""Failed logins per account: many addresses guessing one password get 429, the owner does not."""

from __future__ import annotations

from quart import Quart

from tests.helpers.web import AppFactory, cookie_value, drop_cookie, from_ip, post_form, signup

PASSWORD = "a good long passphrase"
ADDRESSES = [f"192.0.2.{n}" for n in range(1, 9)]


async def guess(app: Quart, login: str, address: str, password: str = "wrong guess 123") -> int:
    client = app.test_client()
    response = await post_form(
        client, "/login", {"login": login, "password": password}, **from_ip(address)
    )
    return int(response.status_code)


async def test_guesses_from_many_addresses_are_limited_per_account(make_app: AppFactory) -> None:
    """Wrong passwords for one account from 8 addresses, each far under its own limit: past
    the account's limit they get 429 with Retry-After and a message saying when, and so does
    the right password from a new address (a guess in the pause learns nothing)."""
    app = await make_app(login_failures_per_account_hour=10)
    await signup(app.test_client(), "vy")
    statuses = [await guess(app, "vy", ADDRESSES[n % 8]) for n in range(16)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 6
    client = app.test_client()
    right = await post_form(
        client, "/login", {"login": "vy", "password": PASSWORD}, **from_ip("198.51.100.1")
    )
    assert right.status_code == 429
    assert 1 <= int(right.headers["Retry-After"]) <= 3600
    text = await right.get_data(as_text=True)
    assert "Too many failed logins for this account. Try again in 60 min." in text
    # Another account is not affected.
    await signup(app.test_client(), "xuan")
    assert await guess(app, "xuan", ADDRESSES[0], PASSWORD) == 302


async def test_unknown_names_are_limited_too(make_app: AppFactory) -> None:
    """A name with no account is limited like one with: a 429 tells nothing about existence."""
    app = await make_app(login_failures_per_account_hour=3)
    statuses = [await guess(app, "nobody_here", ADDRESSES[n]) for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


async def test_the_owners_browser_is_not_locked_out(make_app: AppFactory) -> None:
    """A browser that logged in to the account before keeps logging in while strangers are
    refused; a forged device cookie is treated as a stranger's."""
    app = await make_app(login_failures_per_account_hour=5)
    owner = app.test_client()
    await signup(owner, "yen")
    device = cookie_value(owner, "gapo_device")
    assert device
    drop_cookie(owner, "gapo_session")  # the session ran out; the browser stays known
    for n in range(8):
        await guess(app, "yen", ADDRESSES[n])
    assert await guess(app, "yen", ADDRESSES[0], PASSWORD) == 429

    back = await post_form(owner, "/login", {"login": "yen", "password": PASSWORD})
    assert back.status_code == 302

    forger = app.test_client()
    nonce = device.split(".")[0]
    forger.set_cookie("localhost", "gapo_device", f"{nonce}.{'0' * 32}", path="/login")
    forged = await post_form(forger, "/login", {"login": "yen", "password": PASSWORD})
    assert forged.status_code == 429


async def test_logout_forgets_the_device(client) -> None:
    """Logging out drops the device cookie: the browser keeps nothing tied to the account."""
    await signup(client, "yeu")
    assert cookie_value(client, "gapo_device")
    response = await post_form(client, "/logout", {}, csrf_from="/")
    cleared = [c for c in response.headers.get_all("Set-Cookie") if c.startswith("gapo_device=")]
    assert cleared and ("Max-Age=0" in cleared[0] or "expires=Thu, 01 Jan 1970" in cleared[0])
