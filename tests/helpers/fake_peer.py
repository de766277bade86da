"""A fake remote ActivityPub server on loopback (aiohttp) and helpers to drive a local Gapo app.

The peer serves actor documents with real RSA keys, records every POST to its inboxes and
answers them as a test tells it to; requests from it are signed with the real signing code.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from quart import Quart

from activitypub.signatures import sign_cavage, sign_rfc9421
from instance.accounts.service import SignupRequest
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.ids import now
from tests.helpers.fanout import expand_fanouts
from tests.helpers.social import gapo

AP = "application/activity+json"
LOCAL_BASE = "http://gapo.test"
LOCAL_HOST = "gapo.test"


@functools.cache
def rsa_pems(which: str = "main") -> tuple[str, str]:
    """(private PEM, public PEM) of a test key, generated once per test session and name."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def activity(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


InboxAnswer = Callable[[Received], Awaitable[int]]


@dataclass
class FakePeer:
    """One remote server: actors by name, inbox POSTs recorded, behaviour set per test."""

    shared_inbox: bool = True
    actor_status: int | None = None  # answer GETs of actors with this status instead
    inbox_answer: InboxAnswer | None = None
    received: list[Received] = field(default_factory=list)
    base_url: str = ""
    # Documents served as they are at a path (e.g. a Key document owned elsewhere).
    extra_docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The path of every GET served (actors and extra documents), in order.
    gets: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> FakePeer:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/{path:.*}", self._extra)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    def actor_id(self, name: str) -> str:
        return f"{self.base_url}/users/{name}"

    def key_id(self, name: str) -> str:
        return f"{self.actor_id(name)}#main-key"

    def actor_doc(self, name: str) -> dict[str, Any]:
        actor = self.actor_id(name)
        doc: dict[str, Any] = {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
            ],
            "id": actor,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title(),
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "followers": f"{actor}/followers",
            "following": f"{actor}/following",
            "publicKey": {"id": self.key_id(name), "owner": actor, "publicKeyPem": rsa_pems()[1]},
        }
        if self.shared_inbox:
            doc["endpoints"] = {"sharedInbox": f"{self.base_url}/inbox"}
        return doc

    async def _actor(self, request: web.Request) -> web.Response:
        self.gets.append(request.path)
        if self.actor_status is not None:
            return web.Response(status=self.actor_status, text="peer trouble")
        return web.json_response(self.actor_doc(request.match_info["name"]), content_type=AP)

    async def _extra(self, request: web.Request) -> web.Response:
        self.gets.append(request.path)
        doc = self.extra_docs.get(request.path)
        if doc is None:
            return web.Response(status=404)
        return web.json_response(doc, content_type=AP)

    async def _inbox(self, request: web.Request) -> web.Response:
        got = Received(request.path, dict(request.headers), await request.read())
        self.received.append(got)
        status = await self.inbox_answer(got) if self.inbox_answer else 202
        return web.Response(status=status)

    def signed(
        self,
        activity: dict[str, Any],
        *,
        url: str = f"{LOCAL_BASE}/inbox",
        name: str = "remote",
        scheme: str = "cavage",
        key_id: str | None = None,
        private_pem: str | None = None,
        at: float | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a POST of `activity`, signed as this peer's actor `name`."""
        body = json.dumps(activity).encode()
        sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
        headers = sign(
            "POST",
            url,
            {"Content-Type": AP, "Host": LOCAL_HOST},
            body,
            key_id=key_id or self.key_id(name),
            private_key_pem=private_pem or rsa_pems()[0],
            now=at,
        )
        return headers, body

    def signed_get(self, url: str, name: str = "remote") -> dict[str, str]:
        return sign_cavage(
            "GET",
            url,
            {"Accept": AP, "Host": LOCAL_HOST},
            None,
            key_id=self.key_id(name),
            private_key_pem=rsa_pems()[0],
        )

    async def wait_for_posts(self, count: int, timeout: float = 5.0) -> list[Received]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)
        return self.received


async def local_user(app: Quart, username: str, *, locked: bool = False) -> Row:
    """A local account made through the account service; returns its `accounts` row."""
    services = gapo(app)
    await services.accounts.signup(
        SignupRequest(username, f"{username}@example.org", "a good long passphrase"),
        bypass_mode=True,
    )
    if locked:
        await services.db.execute(
            "UPDATE accounts SET locked = 1 WHERE username = :u AND local = 1", {"u": username}
        )
    row = await accounts_q.get_local_by_username(services.db, username)
    assert row is not None
    return row


async def accepted_follow(app: Quart, follower: Row, followee: Row) -> None:
    """Store `follower` (a remote actor row) as an accepted follower of `followee`."""
    services = gapo(app)
    follow_id = services.ids.next_id()
    await follows_q.upsert_follow(
        services.db,
        follow_id=follow_id,
        follower_id=follower["id"],
        followee_id=followee["id"],
        state="accepted",
        ap_id=f"{follower['ap_id']}#follows/{follow_id}",
        now=now(),
    )


async def remote_follower(app: Quart, peer: FakePeer, name: str, followee: Row) -> Row:
    """Store the peer's actor (fetched over HTTP) as an accepted follower of `followee`."""
    actor: Row = await gapo(app).actors.get_or_fetch(peer.actor_id(name))
    await accepted_follow(app, actor, followee)
    return actor


async def jobs(app: Quart, kind: str = "deliver") -> list[Row]:
    """The jobs of one kind; `deliver` jobs after the pending fan-outs are expanded."""
    if kind == "deliver":
        await expand_fanouts(gapo(app))
    return list(
        await gapo(app).db.fetch_all("SELECT * FROM jobs WHERE kind = :k ORDER BY id", {"k": kind})
    )


async def count(app: Quart, table: str) -> int:
    return int(await gapo(app).db.fetch_value(f"SELECT COUNT(*) AS n FROM {table}"))
