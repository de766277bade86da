"""Fixtures: the app on a fixed base URL that may reach loopback, and fake peers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instance.config import Settings
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer
from tests.helpers.web import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", base_url=LOCAL_BASE, allow_private_addresses=True)


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    server = await FakePeer().start()
    yield server
    await server.stop()


@pytest.fixture
async def other_peer() -> AsyncIterator[FakePeer]:
    server = await FakePeer().start()
    yield server
    await server.stop()
