"""Helpers for tests of the app in-process: settings, the test client, forms and cookies."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol

from instance.config import Settings, load_settings
from tests.helpers import postgres

# Cheap argon2 so hundreds of sign-ups stay fast; production parameters are benchmarked.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

AppFactory = Callable[..., Awaitable[Quart]]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "run_jobs": False, **FAST_ARGON2}
    if postgres.wanted() and "database_url" not in overrides:
        values["database_url"] = postgres.database_for(data_dir)
    values.update(overrides)
    return load_settings(environ={}, **values)


def from_ip(ip: str) -> dict[str, Any]:
    """Keyword arguments for a test-client request that arrives from `ip`."""
    return {"scope_base": {"client": (ip, 40000)}}


async def user_rows(app: Quart) -> list[dict[str, Any]]:
    return list(await app.extensions["gapo"].accounts.list_users())


async def count_rows(app: Quart, table: str) -> int:
    db = app.extensions["gapo"].db
    return int(await db.fetch_value(f"SELECT COUNT(*) AS n FROM {table}"))


async def csrf_of(client: TestClientProtocol, path: str = "/login", **kwargs: Any) -> str:
    response = await client.get(path, **kwargs)
    match = CSRF_RE.search(await response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(
    client: TestClientProtocol,
    path: str,
    data: dict[str, str],
    csrf_from: str = "/login",
    **kwargs: Any,
) -> Any:
    token = await csrf_of(client, csrf_from, **kwargs)
    return await client.post(path, form={**data, "csrf_token": token}, **kwargs)


async def signup(
    client: TestClientProtocol,
    username: str,
    password: str = "a good long passphrase",
    request_kwargs: dict[str, Any] | None = None,
    **extra: str,
) -> Any:
    data = {"username": username, "email": f"{username}@example.org", "password": password}
    data.update(extra)
    return await post_form(client, "/signup", data, csrf_from="/signup", **(request_kwargs or {}))


def cookie_value(client: TestClientProtocol, name: str) -> str | None:
    jar = client.cookie_jar
    assert jar is not None, "the test client keeps cookies"
    return next((c.value for c in jar if c.name == name), None)


def drop_cookie(client: TestClientProtocol, name: str) -> None:
    """Forget one cookie in the test client's jar, as a browser would when it expires."""
    jar = client.cookie_jar
    assert jar is not None, "the test client keeps cookies"
    for cookie in list(jar):
        if cookie.name == name:
            jar.clear(cookie.domain, cookie.path, cookie.name)
