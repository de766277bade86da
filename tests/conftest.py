"""Shared fixtures: a real SQLite file per test, the app started through its factory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
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

# The one place that says which test folder is which kind: every test under a folder of
# this name gets the marker, so `make test-fast` (-m "not browser and not federation")
# leaves it out. A renamed folder is a one-line change here, not a mark in every file.
FOLDER_MARKERS = {
    "browser": "browser",
    "federation": "federation",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).resolve().parent
    for item in items:
        try:
            folders = item.path.resolve().relative_to(tests_root).parts[:-1]
        except ValueError:  # a test outside tests/ (none today)
            continue
        for folder in folders:
            marker = FOLDER_MARKERS.get(folder)
            if marker is not None:
                item.add_marker(marker)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "run_jobs": False, **FAST_ARGON2}
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


AppFactory = Callable[..., Awaitable[Quart]]


@pytest.fixture
async def make_app(tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Builds started apps with chosen settings, each on its own data dir; all stopped at the end."""
    async with AsyncExitStack() as stack:
        count = 0

        async def build(**overrides: Any) -> Quart:
            nonlocal count
            count += 1
            data_dir = overrides.pop("data_dir", tmp_path / f"app{count}")
            built = make_settings(data_dir, **overrides)
            await migrate(built.database_url, built.sqlite_path)
            test_app = await stack.enter_async_context(create_app(built).test_app())
            return test_app.app  # type: ignore[no-any-return]

        yield build


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
    jar = client.cookie_jar  # type: ignore[attr-defined]
    return next((c.value for c in jar if c.name == name), None)


def drop_cookie(client: TestClientProtocol, name: str) -> None:
    """Forget one cookie in the test client's jar, as a browser would when it expires."""
    jar = client.cookie_jar  # type: ignore[attr-defined]
    for cookie in list(jar):
        if cookie.name == name:
            jar.clear(cookie.domain, cookie.path, cookie.name)
