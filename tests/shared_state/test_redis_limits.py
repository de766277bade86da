"""Limits on Redis: two apps (two processes' worth) on one Redis share every limit; what
Redis holds expires and names no address; Redis down never costs a request."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from redis import asyncio as aioredis

from instance.redis_state import RedisState
from tests.helpers.redis_server import RedisServer
from tests.helpers.web import AppFactory, from_ip, post_form, signup

WRONG = {"login": "nobody", "password": "not the password"}
ADDRESS = "203.0.113.77"


async def _apps(
    make_app: AppFactory, tmp_path: Path, redis: RedisServer, **settings: Any
) -> list[Quart]:
    """Two apps with data dirs of their own and the one instance secret (as on two machines)."""
    secret = secrets.token_urlsafe(48)
    apps = []
    for name in ("one", "two"):
        data_dir = tmp_path / name
        data_dir.mkdir()
        (data_dir / "secret_key").write_text(secret, encoding="ascii")
        apps.append(
            await make_app(
                data_dir=data_dir, redis_url=redis.url, redis_timeout_ms=5000, **settings
            )
        )
    return apps


async def test_login_limit_holds_across_two_apps(
    make_app: AppFactory, tmp_path: Path, redis: RedisServer
) -> None:
    """Attempts from one address through two apps are counted together: past the limit the
    next one is refused with 429 whichever app it reaches; another address is not."""
    one, two = await _apps(make_app, tmp_path, redis, login_rate_per_5min=4)
    here = from_ip(ADDRESS)
    for app in (one, two, one, two):
        answer = await post_form(app.test_client(), "/login", WRONG, **here)
        assert answer.status_code == 401
    for app in (one, two):
        limited = await post_form(app.test_client(), "/login", WRONG, **here)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 300
    other = await post_form(one.test_client(), "/login", WRONG, **from_ip("203.0.113.78"))
    assert other.status_code == 401


async def test_signup_limit_holds_across_two_apps(
    make_app: AppFactory, tmp_path: Path, redis: RedisServer
) -> None:
    """Accounts made from one address through either app count against one allowance."""
    one, two = await _apps(make_app, tmp_path, redis, signup_rate_per_hour=2)
    here = from_ip(ADDRESS)
    assert (await signup(one.test_client(), "an", request_kwargs=here)).status_code == 302
    assert (await signup(two.test_client(), "binh", request_kwargs=here)).status_code == 302
    refused = await signup(one.test_client(), "chi", request_kwargs=here)
    assert refused.status_code == 429
    refused = await signup(two.test_client(), "dung", request_kwargs=here)
    assert refused.status_code == 429


async def _all_of_redis(url: str) -> list[tuple[str, int, list[str]]]:
    """Every key with its TTL (ms) and every value or member it holds."""
    client: Any = aioredis.Redis.from_url(url, decode_responses=True)
    found = []
    try:
        async for key in client.scan_iter("*"):
            kind = await client.type(key)
            if kind == "zset":
                values = list(await client.zrange(key, 0, -1))
            elif kind == "string":
                values = [await client.get(key)]
            else:
                values = [f"unexpected type {kind}"]
            found.append((key, int(await client.pttl(key)), values))
    finally:
        await client.aclose()
    return found


async def test_redis_holds_expiring_keyed_hashes_never_an_address(
    make_app: AppFactory, tmp_path: Path, redis: RedisServer
) -> None:
    """After sign-ups, logins and failed logins from an address, every key in Redis has a
    TTL, and no key or value holds the address, in text or as its plain SHA-256."""
    import hashlib

    one, _ = await _apps(make_app, tmp_path, redis)
    here = from_ip(ADDRESS)
    client = one.test_client()
    assert (await signup(client, "hoa", request_kwargs=here)).status_code == 302
    await post_form(client, "/logout", {}, **here)
    await post_form(client, "/login", {"login": "hoa", "password": "wrong wrong"}, **here)
    await post_form(client, "/login", WRONG, **here)
    held = await _all_of_redis(redis.url)
    assert len(held) >= 3  # sign-up, login per address, failures per account
    digest = hashlib.sha256(ADDRESS.encode()).hexdigest()
    for key, ttl, values in held:
        assert key.startswith("gapo:")
        assert ttl > 0, f"{key} has no TTL"
        for text in (key, *values):
            assert ADDRESS not in text
            assert digest[:16] not in text


async def test_redis_down_limits_fail_open_to_this_process(
    make_app: AppFactory, tmp_path: Path, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis stopped mid-test, logins are still answered (never 500) and the limit
    still holds per process, from memory; /health stays 200 and /metrics says Redis is down.
    Restarted, Redis counts again."""
    import instance.redis_state as module

    monkeypatch.setattr(module, "RETRY_AFTER_FAILURE", 0.0)
    one, two = await _apps(make_app, tmp_path, redis, login_rate_per_5min=2, metrics_token="t")
    here = from_ip(ADDRESS)
    assert (await post_form(one.test_client(), "/login", WRONG, **here)).status_code == 401
    redis.stop()
    answers = [
        (await post_form(one.test_client(), "/login", WRONG, **here)).status_code for _ in range(3)
    ]
    assert answers == [401, 401, 429]  # the memory of this process, from zero
    assert (await post_form(two.test_client(), "/login", WRONG, **here)).status_code == 401
    assert (await one.test_client().get("/health")).status_code == 200
    state = one.extensions["gapo"].shared
    assert isinstance(state, RedisState) and state.failures > 0
    metrics = await one.test_client().get("/metrics", headers={"Authorization": "Bearer t"})
    assert "gapo_redis_fallbacks_total" in await metrics.get_data(as_text=True)

    redis.start()
    for app in (one, two):
        assert (await post_form(app.test_client(), "/login", WRONG, **here)).status_code == 401
    limited = await post_form(one.test_client(), "/login", WRONG, **here)
    assert limited.status_code == 429  # two counted in the new Redis: shared again
