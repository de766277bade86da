"""The S3 fixtures the object-storage tests share: one moto server per test module, a new
bucket per test. A module imports them by name (and lists them in `__all__`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.helpers.s3_server import Bucket, S3Server, new_bucket


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def bucket(s3_server: S3Server) -> AsyncIterator[Bucket]:
    async with new_bucket(s3_server) as made:
        yield made
