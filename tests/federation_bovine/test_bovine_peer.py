"""Self-test of the bovine peer harness: two bovine peers federate over loopback.

Proves the harness before Gapo talks to it: Follow -> Accept, each verified by bovine on
the receiving side, then a post reaches the follower and verifies too; an unsigned POST is
refused and recorded as unverified; a Mastodon-shaped signature from a non-bovine sender
verifies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.federation_bovine.bovine_harness import BovinePeer, free_port

AP = "application/activity+json"


@pytest.fixture
def two_peers(tmp_path: Path) -> Iterator[tuple[BovinePeer, BovinePeer]]:
    alice = BovinePeer.start(free_port(), "alice", tmp_path / "alice")
    try:
        bob = BovinePeer.start(free_port(), "bob", tmp_path / "bob")
    except BaseException:
        alice.stop()
        raise
    try:
        yield alice, bob
    finally:
        bob.stop()
        alice.stop()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def fetch_json(url: str, **params: str) -> tuple[int, str, Any]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, params=params, headers={"Accept": AP}) as response,
    ):
        return response.status, response.content_type, json.loads(await response.text())


async def test_follow_accept_and_post_verify_both_ways(
    two_peers: tuple[BovinePeer, BovinePeer],
) -> None:
    alice, bob = two_peers

    status, content_type, actor = await fetch_json(alice.actor_id)
    assert (status, content_type) == (200, AP)
    assert actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["publicKey"]["id"] == f"{alice.actor_id}#main-key"
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    _, _, jrd = await fetch_json(
        f"{bob.base_url}/.well-known/webfinger", resource=f"acct:{bob.handle}"
    )
    assert jrd["links"][0]["href"] == bob.actor_id

    follow_id = await alice.follow(bob.handle)  # through WebFinger, then a signed Follow

    async def bob_has_follower() -> bool:
        return alice.actor_id in await bob.followers()

    assert await eventually(bob_has_follower)
    [follow] = await bob.inbox()
    assert follow["verified"] is True, follow
    assert follow["activity"]["type"] == "Follow" and follow["activity"]["id"] == follow_id
    assert follow["key_id"] == f"{alice.actor_id}#main-key"

    async def alice_got_accept() -> list[dict[str, Any]]:
        return [e for e in await alice.inbox() if e["activity"].get("type") == "Accept"]

    [accept] = await eventually(alice_got_accept)
    assert accept["verified"] is True, accept
    assert accept["activity"]["object"]["id"] == follow_id
    [following] = await alice.following()
    assert following["state"] == "accepted"

    note_id = await bob.post("hello from bob")

    async def alice_got_create() -> list[dict[str, Any]]:
        return [e for e in await alice.inbox() if e["activity"].get("type") == "Create"]

    [create] = await eventually(alice_got_create)
    assert create["verified"] is True, create
    assert create["signer"] == bob.actor_id
    note = create["activity"]["object"]
    assert note["id"] == note_id and note["content"] == "hello from bob"
    assert "https://www.w3.org/ns/activitystreams#Public" in note["to"]
    assert f"{bob.base_url}/followers" in note["cc"]
    status, content_type, fetched = await fetch_json(note_id)
    assert (status, content_type, fetched["id"]) == (200, AP, note_id)

    # Both actor fetches of the exchange were signed GETs, and verified by bovine.
    fetches = await bob.fetches() + await alice.fetches()
    assert fetches and all(f["verified"] for f in fetches), fetches


async def test_unsigned_post_is_refused_and_recorded(
    two_peers: tuple[BovinePeer, BovinePeer],
) -> None:
    alice, bob = two_peers
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{bob.base_url}/objects/forged",
        "type": "Follow",
        "actor": bob.actor_id,
        "object": alice.actor_id,
    }
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(
            f"{alice.base_url}/inbox", json=activity, headers={"Content-Type": AP}
        ) as response,
    ):
        assert response.status == 401
    [entry] = await alice.inbox()
    assert entry["verified"] is False and entry["activity"]["id"] == activity["id"]
    assert await alice.followers() == []


async def test_mastodon_shaped_cavage_signature_is_verified(tmp_path: Path) -> None:
    """A sender that is not bovine: rsa-sha256 over `(request-target) host date digest` with
    `Digest: SHA-256=...`, its actor served by a throwaway aiohttp server on loopback."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    port = free_port()
    sender = f"http://127.0.0.1:{port}/users/carol"
    actor = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": sender,
        "type": "Person",
        "preferredUsername": "carol",
        "inbox": f"{sender}/inbox",
        "publicKey": {"id": f"{sender}#main-key", "owner": sender, "publicKeyPem": pem.decode()},
    }

    async def serve_actor(_: web.Request) -> web.Response:
        return web.json_response(actor, content_type=AP)

    app = web.Application()
    app.router.add_get("/users/carol", serve_actor)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with BovinePeer.start(free_port(), "alice", tmp_path / "alice") as alice:
            body = json.dumps(
                {"id": f"{sender}/likes/1", "type": "Like", "actor": sender, "object": "x:y"}
            ).encode()
            host = f"127.0.0.1:{alice.port}"
            date = formatdate(usegmt=True)
            digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            signed = f"(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}"
            signature = base64.b64encode(
                key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
            ).decode()
            headers = {
                "Host": host,
                "Date": date,
                "Digest": digest,
                "Content-Type": AP,
                "Signature": f'keyId="{sender}#main-key",algorithm="rsa-sha256",'
                f'headers="(request-target) host date digest",signature="{signature}"',
            }
            timeout = aiohttp.ClientTimeout(total=10)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(f"{alice.base_url}/inbox", data=body, headers=headers) as response,
            ):
                assert response.status == 202, await response.text()
            [entry] = await alice.inbox()
            assert entry["verified"] is True and entry["signer"] == sender, entry
    finally:
        await runner.cleanup()
