"""Search keeps resolving people elsewhere: a full handle (over WebFinger) or a profile URL
opens the remote profile, fetched from a real loopback peer; once known, the account is also
found by its name, without diacritics."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from quart import Quart

from tests.helpers.fake_peer import FakePeer
from tests.helpers.social import page, user


class NamedPeer(FakePeer):
    """A peer whose actors carry Vietnamese display names, and which answers WebFinger."""

    def actor_doc(self, name: str) -> dict[str, Any]:
        return {**super().actor_doc(name), "name": f"Đoàn {name.title()}"}

    async def _extra(self, request: web.Request) -> web.Response:
        if request.path != "/.well-known/webfinger":
            return await super()._extra(request)
        name = request.query.get("resource", "").removeprefix("acct:").split("@", 1)[0]
        jrd = {
            "subject": f"acct:{name}@{self.host}",
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": self.actor_id(name)}
            ],
        }
        return web.json_response(jrd, content_type="application/jrd+json")


async def test_handles_and_urls_resolve_remote_people_then_names_find_them(app: Quart) -> None:
    peer = await NamedPeer().start()
    try:
        reader = await user(app, "reader")
        by_handle = await page(reader, f"/search?q={quote(f'@lan@{peer.host}')}")
        assert 'class="p-name">Đoàn Lan<' in by_handle
        by_url = await page(reader, f"/search?q={quote(peer.actor_id('hoa'))}")
        assert 'class="p-name">Đoàn Hoa<' in by_url
    finally:
        await peer.stop()
    # Known now: found by name, also without diacritics, with no request to the peer.
    body = await page(reader, f"/search?q={quote('doan')}")
    assert "Đoàn Lan" in body and "Đoàn Hoa" in body
    assert "Đoàn Hoa" in await page(reader, f"/search?q={quote('hoa')}")
