"""Shared fixtures: a real SQLite file per test, the app started through its factory.

Plain helpers (settings, forms, cookies) are in `tests/helpers/`, typed and imported from
there; this file holds only fixtures and the folder markers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from instance.app import create_app
from instance.config import Settings
from tests.helpers import postgres
from tests.helpers.schema import migrated
from tests.helpers.web import AppFactory, make_settings

# The one place that says which test folder is which kind: every test under a folder of
# this name gets the marker, so `make test-fast` (-m "not browser and not federation")
# leaves it out. A renamed folder is a one-line change here, not a mark in every file.
FOLDER_MARKERS = {
    "browser": "browser",
    "federation_servers": "federation",
    "federation_bovine": "federation",
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


@pytest.fixture(autouse=True)
def _release_postgres_databases() -> Iterator[None]:
    """Under GAPO_TEST_DATABASE=postgresql, a test's databases are emptied for the next."""
    yield
    if postgres.wanted():
        postgres.release_all()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Quart]:
    await migrated(settings)
    application = create_app(settings)
    async with application.test_app() as test_app:
        yield test_app.app  # type: ignore[attr-defined]


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


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
            await migrated(built)
            test_app = await stack.enter_async_context(create_app(built).test_app())
            return test_app.app  # type: ignore[no-any-return]

        yield build
