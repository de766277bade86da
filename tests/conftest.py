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


# Tests that look at SQLite itself (its file, its catalog, its triggers, the CLI's own data
# dir): skipped when GAPO_TEST_DATABASE=postgresql puts the data elsewhere (docs/scale-out.md).
SQLITE_ONLY = {
    "test_cli.py::test_migrate_twice": "checks the SQLite file the command creates",
    "test_cli.py::test_commands_refuse_when_migrations_pending": "needs an unmigrated file",
    "test_cli.py::test_config_file_reaches_the_command": "the TOML file names a SQLite path",
    "test_sessions.py::test_session_keeps_only_a_coarse_browser_label": "reads the SQLite file",
    "test_admission.py::test_concurrent_signups_past_the_estimate_are_shed_whole": "SQLite file",
    "test_rate_limit.py::test_trusted_proxy_forwarded_address_is_limited_per_client": "SQLite",
    "test_signup_limits.py::test_one_address_signs_up_many_while_the_surge_guard_sheds": "SQLite",
    "test_overload.py::test_signup_surge_gets_503_with_retry_after_and_no_partial_rows": "SQLite",
    "test_wakeup_sockets.py::test_a_job_enqueued_by_another_process_starts_without_a_poll": (
        "its child process opens the SQLite file"
    ),
    "test_profile_save_federates.py::test_failed_enqueue_leaves_the_profile_and_images_unchanged": (
        "a SQLite trigger makes the enqueue fail"
    ),
    "test_account_deletion.py::test_deletion_removes_every_row_and_file_and_federates_a_signed_delete": (
        "lists tables from sqlite_master"
    ),
    "test_account_deletion.py::test_interrupted_deletion_resumes_and_sends_one_delete": (
        "lists tables from sqlite_master"
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).resolve().parent
    for item in items:
        if postgres.wanted():
            local_id = item.nodeid.rpartition("/")[2]
            for prefix, reason in SQLITE_ONLY.items():
                if local_id.startswith(prefix):
                    item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
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
