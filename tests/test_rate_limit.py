"""Per-IP rate limits on sign-up and login: 429 with Retry-After, other IPs unaffected."""

from __future__ import annotations

import pytest

from instance.errors import RateLimited
from instance.ratelimit import RateLimiter
from tests.conftest import AppFactory, from_ip, post_form, signup, user_rows


async def test_signup_limit_per_ip(make_app: AppFactory) -> None:
    """Past the hourly sign-up limit one IP gets 429 + Retry-After; another IP still signs up."""
    app = await make_app(signup_rate_per_hour=3)
    client = app.test_client()
    for n in range(3):
        response = await signup(client, f"user{n}", request_kwargs=from_ip("10.0.0.1"))
        assert response.status_code == 302
        await post_form(client, "/logout", {}, **from_ip("10.0.0.1"))
    limited = await signup(client, "user3", request_kwargs=from_ip("10.0.0.1"))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert "Too many attempts" in await limited.get_data(as_text=True)
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


def test_limiter_window_slides() -> None:
    """An attempt is forgotten once the window has passed, and Retry-After counts down to it."""
    limiter = RateLimiter(2, 60)
    limiter.hit("ip", at=0)
    limiter.hit("ip", at=10)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("ip", at=30)
    assert refused.value.retry_after == 30
    limiter.hit("ip", at=61)  # the attempt at 0 has left the window


def test_limiter_forgets_oldest_keys() -> None:
    """The table of IPs is bounded: the least recently seen key is dropped first."""
    limiter = RateLimiter(1, 60, max_keys=2)
    limiter.hit("a", at=0)
    limiter.hit("b", at=0)
    limiter.hit("c", at=0)
    limiter.hit("a", at=1)  # "a" was evicted, so it counts from zero again
