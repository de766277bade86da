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
        for user in users:  # each admitted sign-up is whole; its key is made on first use
            assert await services.accounts.account(user["account_id"])
            assert await services.accounts.public_key(user["account_id"]) is not None
