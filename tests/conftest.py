"""Shared fixtures: a real SQLite file per test, the app started through its factory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from instance.app import create_app
from instance.config import Settings, load_settings
from instance.db.migrate import migrate

# Cheap argon2 so hundreds of sign-ups stay fast; production parameters are benchmarked.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, **FAST_ARGON2}
    values.update(overrides)
    return load_settings(environ={}, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Quart]:
    await migrate(settings.database_url, settings.sqlite_path)
    application = create_app(settings)
    async with application.test_app() as test_app:
        yield test_app.app  # type: ignore[attr-defined]


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


async def csrf_of(client: TestClientProtocol, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(await response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(
    client: TestClientProtocol, path: str, data: dict[str, str], csrf_from: str = "/login"
) -> Any:
    token = await csrf_of(client, csrf_from)
    return await client.post(path, form={**data, "csrf_token": token})


async def signup(
    client: TestClientProtocol,
    username: str,
    password: str = "a good long passphrase",
    **extra: str,
) -> Any:
    data = {"username": username, "email": f"{username}@example.org", "password": password}
    data.update(extra)
    return await post_form(client, "/signup", data, csrf_from="/signup")
