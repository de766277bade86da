"""Fetches of a third host: an allowed sender's activity that names an object on a blocked
host (suspended, or off the allowlist in allowlist mode) makes this server ask that host
nothing (`RemoteActors.fetch_document`, the one path of every document fetch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.federation_in_process.test_allowlist import admin
from tests.federation_in_process.test_inbox_apply import apply, send, wrap
from tests.helpers.fake_peer import FakePeer
from tests.helpers.social import gapo

THIRD = "127.0.0.2"  # loopback too, but another host name than the sender's 127.0.0.1


class ThirdHost:
    """A server on another loopback address that records the paths it is asked for."""

    def __init__(self) -> None:
        self.gets: list[str] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def _any(self, request: web.Request) -> web.Response:
        self.gets.append(request.path)
        return web.Response(status=404)

    async def start(self) -> ThirdHost:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._any)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, THIRD, 0)
        await site.start()
        self.base_url = f"http://{THIRD}:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def third() -> AsyncIterator[ThirdHost]:
    host = await ThirdHost().start()
    yield host
    await host.stop()


async def results(app: Quart) -> list[str]:
    rows = await gapo(app).db.fetch_all(
        "SELECT result FROM inbox_activities WHERE ap_type = 'Announce' ORDER BY id"
    )
    return [str(r["result"]) for r in rows]


def announce(peer: FakePeer, third: ThirdHost, n: int) -> dict[str, Any]:
    return wrap(peer, "Announce", f"{third.base_url}/notes/{n}", n)


async def test_a_blocked_third_host_is_not_fetched(
    app: Quart, client: Client, peer: FakePeer, third: ThirdHost
) -> None:
    """Open mode: the shared note is fetched from the third host. Suspended: not asked.
    Allowlist mode with only the sender allowed: not asked either."""
    await send(client, peer, announce(peer, third, 1))
    await apply(app)
    assert third.gets == ["/notes/1"]

    federation = gapo(app).federation_admin
    await federation.block_domain(THIRD)
    await send(client, peer, announce(peer, third, 2))
    await apply(app)
    assert third.gets == ["/notes/1"]
    assert (await results(app))[-1] == f"ignored: {THIRD} is blocked here"

    await federation.block_domain(THIRD, blocked=False)
    staff = await admin(app)
    await federation.allow(staff, "127.0.0.1", "the sender")
    await federation.set_mode(staff, "allowlist", "closing ranks")
    await send(client, peer, announce(peer, third, 3))
    await apply(app)
    assert third.gets == ["/notes/1"]
    await federation.allow(staff, THIRD, "a friend too")
    await send(client, peer, announce(peer, third, 4))
    await apply(app)
    assert third.gets == ["/notes/1", "/notes/4"]
