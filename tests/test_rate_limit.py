"""Per-IP rate limits on sign-up and login: 429 with Retry-After, other IPs unaffected."""

from __future__ import annotations

import pytest

from instance.errors import RateLimited
from instance.ratelimit import RateLimiter
from tests.helpers.web import AppFactory, from_ip, post_form, signup, user_rows


async def test_signup_limit_per_ip(make_app: AppFactory) -> None:
    """Past the hourly number of accounts one IP gets 429 + Retry-After and the wait in
    minutes; another IP still signs up."""
    app = await make_app(signup_rate_per_hour=3)
    client = app.test_client()
    for n in range(3):
        response = await signup(client, f"user{n}", request_kwargs=from_ip("10.0.0.1"))
        assert response.status_code == 302
        await post_form(client, "/logout", {}, **from_ip("10.0.0.1"))
    limited = await signup(client, "user3", request_kwargs=from_ip("10.0.0.1"))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert "Try again in 60 min" in await limited.get_data(as_text=True)
    assert len(await user_rows(app)) == 3

    other = await signup(app.test_client(), "user4", request_kwargs=from_ip("10.0.0.2"))
    assert other.status_code == 302


async def test_login_limit_per_ip(make_app: AppFactory) -> None:
    """Past the login limit one IP gets 429 + Retry-After even with the right password."""
    app = await make_app(login_rate_per_5min=4)
    client = app.test_client()
    await signup(client, "hoa")
    await post_form(client, "/logout", {})
    here = from_ip("192.0.2.7")
    for _ in range(4):
        wrong = await post_form(client, "/login", {"login": "hoa", "password": "nope nope"}, **here)
        assert wrong.status_code == 401
    right = {"login": "hoa", "password": "a good long passphrase"}
    limited = await post_form(client, "/login", right, **here)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 300
    assert "Too many attempts" in await limited.get_data(as_text=True)
    elsewhere = await post_form(client, "/login", right, **from_ip("192.0.2.8"))
    assert elsewhere.status_code == 302


async def test_limiter_window_slides() -> None:
    """An attempt is forgotten once the window has passed, and Retry-After counts down to it."""
    limiter = RateLimiter(2, 60)
    await limiter.hit("ip", at=0)
    await limiter.hit("ip", at=10)
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("ip", at=30)
    assert refused.value.retry_after == 30
    await limiter.hit("ip", at=61)  # the attempt at 0 has left the window


async def test_limiter_forgets_oldest_keys() -> None:
    """The table of IPs is bounded: the least recently seen key is dropped first."""
    limiter = RateLimiter(1, 60, max_keys=2)
    await limiter.hit("a", at=0)
    await limiter.hit("b", at=0)
    await limiter.hit("c", at=0)
    await limiter.hit("a", at=1)  # "a" was evicted, so it counts from zero again


async def test_trusted_proxy_forwarded_address_is_limited_per_client(tmp_path) -> None:
    """Behind one trusted proxy, clients are told apart by X-Forwarded-For, not the proxy IP."""
    from instance.app import create_app
    from instance.db.migrate import migrate
    from tests.helpers.web import make_settings, post_form

    settings = make_settings(tmp_path / "d", trusted_proxies=1, login_rate_per_5min=2)
    await migrate(settings.database_url, settings.sqlite_path)
    application = create_app(settings)
    async with application.test_app() as test_app:
        client = test_app.app.test_client()
        for _ in range(2):
            await post_form(client, "/login", {"login": "x", "password": "y"})
        blocked = await post_form(client, "/login", {"login": "x", "password": "y"})
        assert blocked.status_code == 429
        token_page = await client.get("/login")
        assert token_page.status_code == 200
        other = await post_form(client, "/login", {"login": "x", "password": "y"})
        assert other.status_code == 429
        headers = {"X-Forwarded-For": "198.51.100.7"}
        from tests.helpers.web import CSRF_RE

        page = await client.get("/login")
        token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)
        fresh = await client.post(
            "/login", form={"login": "x", "password": "y", "csrf_token": token}, headers=headers
        )
        assert fresh.status_code == 401


async def test_limiter_keeps_keyed_hashes_not_addresses() -> None:
    """The limiter's table holds HMACs under a key of its own: neither the address nor its
    plain hash, and another process (limiter) files the same address elsewhere."""
    import hashlib

    first, second = RateLimiter(5, 60), RateLimiter(5, 60)
    await first.hit("203.0.113.9")
    await second.hit("203.0.113.9")
    [stored] = first.keys_in_memory()
    assert "203.0.113.9" not in stored
    assert stored.split(":")[-1] not in hashlib.sha256(b"203.0.113.9").hexdigest()
    assert second.keys_in_memory() != [stored]
