"""Sign-up limits per address count accounts made, tolerate a shared address, and stay out
of the surge guard's way (503 + Retry-After)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from instance.accounts.signup_limits import SignupLimits
from instance.app import create_app
from instance.config import Settings
from instance.db.migrate import migrate
from instance.errors import RateLimited
from tests.helpers.web import CSRF_RE, AppFactory, from_ip, make_settings, signup, user_rows

NAT = from_ip("100.64.0.1")  # carrier-grade NAT space: many phones, one address


async def test_limits_count_accounts_made_not_checks() -> None:
    """Checking never uses up the allowance; each account made does, until the limit."""
    limits = SignupLimits(3)
    for _ in range(50):
        await limits.check("100.64.0.1")
    for _ in range(3):
        await limits.check("100.64.0.1")
        await limits.made("100.64.0.1")
    with pytest.raises(RateLimited) as refused:
        await limits.check("100.64.0.1")
    assert 1 <= (refused.value.retry_after or 0) <= 3600
    assert refused.value.args_for_message["minutes"] == 60
    await limits.check("100.64.0.2")


def test_default_tolerates_a_shared_address() -> None:
    """The default allows many people behind one address (docs/configuration.md)."""
    assert Settings().signup_rate_per_hour >= 100


async def test_failed_attempts_do_not_use_up_the_allowance(make_app: AppFactory) -> None:
    """Refused sign-ups (weak password, taken name) from one address cost nothing: after
    many of them, the address still makes its full number of accounts, then gets 429 with
    Retry-After and the wait in minutes, translated."""
    app = await make_app(signup_rate_per_hour=3)
    for n in range(8):
        weak = await signup(
            app.test_client(), f"typo{n}", password="password123", request_kwargs=NAT
        )
        assert weak.status_code == 422
    for n in range(3):
        made = await signup(app.test_client(), f"phone{n}", request_kwargs=NAT)
        assert made.status_code == 302
        if n < 2:  # a taken name, tried between the accounts made
            taken = await signup(app.test_client(), f"phone{n}", request_kwargs=NAT)
            assert taken.status_code == 409
    vietnamese = {**NAT, "headers": {"Accept-Language": "vi"}}
    limited = await signup(app.test_client(), "phone3", request_kwargs=vietnamese)
    assert limited.status_code == 429
    seconds = int(limited.headers["Retry-After"])
    assert 3500 <= seconds <= 3600
    text = await limited.get_data(as_text=True)
    assert f"Vui lòng thử lại sau {-(-seconds // 60)} phút" in text
    assert len(await user_rows(app)) == 3
    other = await signup(app.test_client(), "elsewhere", request_kwargs=from_ip("100.64.0.2"))
    assert other.status_code == 302


async def test_one_address_signs_up_many_while_the_surge_guard_sheds(tmp_path: Path) -> None:
    """Many concurrent sign-ups from one address: the pools shed some with 503 +
    Retry-After, none gets a 429, and the shed ones did not count: retried, they all pass."""
    settings = make_settings(
        tmp_path / "data",
        password_workers=1,
        password_queue=0,
        signup_rate_per_hour=30,
        argon2_time_cost=3,
        argon2_memory_kib=16 * 1024,
    )
    await migrate(settings.database_url, settings.sqlite_path)
    app = create_app(settings)
    async with app.test_app() as test_app:

        async def one(i: int) -> int:
            client = test_app.app.test_client()  # a phone of its own, one address for all
            page = await client.get("/signup")
            token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
            response = await client.post(
                "/signup",
                form={
                    "username": f"nat{i}",
                    "email": f"nat{i}@example.org",
                    "password": "a good long passphrase",
                    "csrf_token": token,
                },
                **NAT,
            )
            if response.status_code == 503:
                assert int(response.headers["Retry-After"]) > 0
            return response.status_code

        people = range(12)
        statuses = dict(zip(people, await asyncio.gather(*(one(i) for i in people)), strict=True))
        assert 503 in statuses.values()
        assert set(statuses.values()) <= {302, 503}
        # Those shed come back one by one, as a browser honouring Retry-After would.
        for i, status in statuses.items():
            if status == 503:
                assert await one(i) == 302
        users = await test_app.app.extensions["gapo"].accounts.list_users()
        assert len(users) == len(people)
