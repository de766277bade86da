"""PostgreSQL lost under a running app: the request that finds its connection gone is answered
503 with Retry-After (the overload path), never 500, and the next one is served again."""

from __future__ import annotations

import uuid
from pathlib import Path

from instance.app import create_app
from instance.db.migrate import migrate
from tests.helpers import postgres
from tests.helpers.web import make_settings


async def test_a_lost_connection_is_503_then_the_pool_reconnects(tmp_path: Path) -> None:
    name = "gone_" + uuid.uuid4().hex[:12]
    url = postgres.empty_database(name)
    await migrate(url)
    async with create_app(make_settings(tmp_path / "data", database_url=url)).test_app() as running:
        client = running.app.test_client()
        assert (await client.get("/@nobody")).status_code == 404
        # The server ends every connection of the app's database (a restart, a failover).
        postgres.cluster().psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND pid != pg_backend_pid()"
        )
        lost = await client.get("/@nobody")
        assert lost.status_code == 503
        assert lost.headers["Retry-After"]
        statuses = [(await client.get("/@nobody")).status_code for _ in range(3)]
        assert statuses[-1] == 404, statuses
