"""Under a surge the password pool admits what it can and answers the rest 503 + Retry-After."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from instance.app import create_app
from instance.db.migrate import migrate
from instance.errors import Overloaded
from instance.pools import BoundedPool
from tests.helpers.web import CSRF_RE, make_settings


async def test_bounded_pool_refuses_past_capacity() -> None:
    """A pool of 1 worker and no queue runs one job and refuses the second at once."""
    pool = BoundedPool("test", workers=1, queue=0)
    release = threading.Event()
    try:
        first = asyncio.create_task(pool.run(release.wait, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded) as refused:
            await pool.run(lambda: None)
        assert refused.value.status == 503 and refused.value.retry_after
        release.set()
        assert await first is True
        await pool.run(lambda: None)  # capacity is back
    finally:
        release.set()
        pool.shutdown()


async def test_signup_surge_gets_503_with_retry_after_and_no_partial_rows(tmp_path: Path) -> None:
    """Concurrent sign-ups beyond the hashing capacity get 503; every admitted one is whole."""
    settings = make_settings(
        tmp_path / "data",
        password_workers=1,
        password_queue=0,
        signup_rate_per_hour=1000,
        argon2_time_cost=3,
        argon2_memory_kib=16 * 1024,
    )
    await migrate(settings.database_url, settings.sqlite_path)
    app = create_app(settings)
    async with app.test_app() as test_app:
        client = test_app.app.test_client()
        page = await client.get("/signup")
        token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)

        async def one(i: int) -> int:
            response = await client.post(
                "/signup",
                form={
                    "username": f"surge{i}",
                    "email": f"surge{i}@example.org",
                    "password": "a good long passphrase",
                    "csrf_token": token,
                },
            )
            if response.status_code == 503:
                assert response.headers["Retry-After"]
            return response.status_code

        statuses = await asyncio.gather(*(one(i) for i in range(12)))
        assert 503 in statuses
        assert set(statuses) <= {302, 503}
        services = test_app.app.extensions["gapo"]
        users = await services.accounts.list_users()
        assert len(users) == statuses.count(302)
        for user in users:  # each admitted sign-up has its key pair: nothing half-written
            assert await services.accounts.public_key(user["account_id"]) is not None


async def test_signup_refused_by_a_full_key_pool_costs_no_hash(tmp_path: Path) -> None:
    """A sign-up takes its place in both pools first: a full key pool refuses before hashing."""
    settings = make_settings(tmp_path / "data", signup_rate_per_hour=1000)
    await migrate(settings.database_url, settings.sqlite_path)
    app = create_app(settings)
    async with app.test_app() as test_app:
        services = test_app.app.extensions["gapo"]
        hashed: list[str] = []
        real = services.accounts.passwords._hasher

        class CountingHasher:
            def hash(self, password: str) -> str:
                hashed.append(password)
                return str(real.hash(password))

        services.accounts.passwords._hasher = CountingHasher()
        key_pool = services.key_pool
        places = [key_pool.slot() for _ in range(key_pool.capacity)]
        for place in places:
            place.__enter__()
        try:
            client = test_app.app.test_client()
            page = await client.get("/signup")
            token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)
            form = {
                "username": "late",
                "email": "late@example.org",
                "password": "a good long passphrase",
                "csrf_token": token,
            }
            response = await client.post("/signup", form=form)
            assert response.status_code == 503 and response.headers["Retry-After"]
            assert hashed == []
            assert services.accounts.passwords.pool.in_flight == 0
        finally:
            for place in places:
                place.__exit__(None, None, None)
        response = await client.post("/signup", form=form)
        assert response.status_code == 302 and len(hashed) == 1
