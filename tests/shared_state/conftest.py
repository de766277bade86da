"""Fixtures: one private redis-server per test process, emptied before each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.helpers.redis_server import RedisServer, start_redis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The server, running (a test that stopped it left it stopped) and empty."""
    if redis_server.proc is None:
        redis_server.start()
    redis_server.flush()
    return redis_server
