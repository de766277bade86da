"""A local actor's key pair is made when it first federates, never missing when needed.

Sign-up makes no key (instance/outbound/actor_keys.py): the actor document and the first
signed delivery make it. These tests prove a new user's actor has a publicKey, deliveries
are signed with it and verify, a full key pool at sign-up costs the sign-up nothing, and a
full key pool later refuses politely (503 + Retry-After, a deferred job) with no row written.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from typing import Any

from quart import Quart

from activitypub.signatures import verify_request
from tests.helpers.fake_peer import AP, FakePeer, jobs, local_user, remote_follower
from tests.helpers.social import gapo
from tests.helpers.web import signup


async def key_rows(app: Quart, account_id: int) -> int:
    return int(
        await gapo(app).db.fetch_value(
            "SELECT COUNT(*) AS n FROM keypairs WHERE account_id = :a", {"a": account_id}
        )
    )


async def actor_doc(app: Quart, username: str) -> tuple[int, dict[str, Any], Any]:
    response = await app.test_client().get(f"/users/{username}", headers={"Accept": AP})
    body = await response.get_json() if response.status_code == 200 else {}
    return response.status_code, body, response.headers


def full(pool: Any) -> ExitStack:
    """Every place of `pool` held until the stack closes."""
    stack = ExitStack()
    for _ in range(pool.capacity):
        stack.enter_context(pool.slot())
    return stack


async def test_a_new_users_actor_has_a_public_key(app: Quart) -> None:
    """Signed up through the form: no key yet; the actor document makes and shows one, once."""
    assert (await signup(app.test_client(), "lan")).status_code == 302
    account = await gapo(app).accounts.profile("lan")
    assert await key_rows(app, account["id"]) == 0

    status, doc, _ = await actor_doc(app, "lan")
    assert status == 200
    key = doc["publicKey"]
    assert key["id"] == gapo(app).urls.key_id("lan") and key["owner"] == doc["id"]
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert await key_rows(app, account["id"]) == 1

    _, again, _ = await actor_doc(app, "lan")
    assert again["publicKey"] == key  # the key published first stays the key


async def test_many_first_fetches_at_once_make_one_key(app: Quart) -> None:
    account = await local_user(app, "hoa")
    results = await asyncio.gather(*(actor_doc(app, "hoa") for _ in range(6)))
    assert {doc["publicKey"]["publicKeyPem"] for _, doc, _ in results} == {
        results[0][1]["publicKey"]["publicKeyPem"]
    }
    assert await key_rows(app, account["id"]) == 1


async def test_a_delivery_is_signed_with_the_key_the_actor_shows(
    app: Quart, peer: FakePeer
) -> None:
    """The first delivery of a user with no key makes it; the peer verifies the signature."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    assert await key_rows(app, alice["id"]) == 0
    await gapo(app).posts.create(alice, "my first post")
    await gapo(app).runner.run_until_idle(limit_seconds=10)

    [got] = await peer.wait_for_posts(1)
    assert got.activity["type"] == "Create"
    _, doc, _ = await actor_doc(app, "alice")
    pem = doc["publicKey"]["publicKeyPem"]
    key_id = verify_request("POST", peer.base_url + got.path, got.headers, got.body, pem)
    assert key_id == doc["publicKey"]["id"]
    assert await key_rows(app, alice["id"]) == 1


async def test_a_full_key_pool_does_not_hold_up_sign_up(app: Quart) -> None:
    """Sign-up needs no key: with the key pool full it still succeeds, whole."""
    with full(gapo(app).key_pool):
        assert (await signup(app.test_client(), "minh")).status_code == 302
    account = await gapo(app).accounts.profile("minh")
    assert [u["username"] for u in await gapo(app).accounts.list_users()] == ["minh"]
    status, doc, _ = await actor_doc(app, "minh")
    assert status == 200 and doc["publicKey"]["publicKeyPem"]
    assert await key_rows(app, account["id"]) == 1


async def test_a_full_key_pool_refuses_the_first_fetch_politely(app: Quart) -> None:
    """The actor document while no key can be made: 503 + Retry-After, and no row written."""
    account = await local_user(app, "tuan")
    with full(gapo(app).key_pool):
        status, _, headers = await actor_doc(app, "tuan")
        assert status == 503 and int(headers["Retry-After"]) >= 1
    assert await key_rows(app, account["id"]) == 0
    status, doc, _ = await actor_doc(app, "tuan")
    assert status == 200 and doc["publicKey"]


async def test_a_delivery_waits_for_a_full_key_pool_without_losing_an_attempt(
    app: Quart, peer: FakePeer
) -> None:
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    await gapo(app).posts.create(alice, "later")
    await jobs(app)  # the fan-out, expanded into its delivery
    with full(gapo(app).key_pool):
        await gapo(app).runner.run_once()
        async with asyncio.timeout(5):
            while (await jobs(app))[0]["state"] == "running":
                await asyncio.sleep(0.02)
    [job] = await jobs(app)
    assert job["state"] == "queued" and job["attempts"] == 0
    assert "key pool" in job["last_error"]
    assert peer.received == []
    assert await key_rows(app, alice["id"]) == 0


async def test_a_remote_account_gets_no_key_made(app: Quart, peer: FakePeer) -> None:
    """Only local actors have keys made here; a remote one keeps the key it published."""
    remote = await gapo(app).actors.get_or_fetch(peer.actor_id("fan"))
    key = await gapo(app).accounts.public_key(remote["id"])
    assert key is not None and key["private_pem"] is None
    assert await gapo(app).accounts.public_key(10**15) is None
