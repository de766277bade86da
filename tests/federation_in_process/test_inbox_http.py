"""POST /inbox and /users/<name>/inbox over the Quart test client, keys fetched over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.helpers.fake_peer import (
    AP,
    LOCAL_BASE,
    LOCAL_HOST,
    FakePeer,
    count,
    local_user,
    rsa_pems,
)
from tests.helpers.social import gapo

AS = "https://www.w3.org/ns/activitystreams"


def follow(
    peer: FakePeer, n: int = 1, name: str = "remote", target: str = "alice"
) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.base_url}/activities/follow-{n}",
        "type": "Follow",
        "actor": peer.actor_id(name),
        "object": f"{LOCAL_BASE}/users/{target}",
    }


async def post(client: Client, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    response = await client.post(path, data=body, headers=headers)
    text = await response.get_data(as_text=True)
    return response.status_code, (json.loads(text) if text.startswith("{") else text)


async def assert_nothing_stored(app: Quart) -> None:
    assert await count(app, "inbox_activities") == 0
    assert await count(app, "jobs") == 0


async def refused(
    app: Quart, client: Client, headers: dict[str, str], body: bytes, status: int
) -> str:
    code, answer = await post(client, "/inbox", headers, body)
    assert code == status, answer
    assert isinstance(answer, dict) and answer["error"]
    await assert_nothing_stored(app)
    return str(answer["error"])


async def test_unsigned_is_401(app: Quart, client: Client, peer: FakePeer) -> None:
    """An unsigned POST is refused with 401 and a JSON reason; nothing is stored."""
    await local_user(app, "alice")
    body = json.dumps(follow(peer)).encode()
    await refused(app, client, {"Content-Type": AP, "Host": LOCAL_HOST}, body, 401)


async def test_wrong_key_is_401(app: Quart, client: Client, peer: FakePeer) -> None:
    """A signature made with another key than the actor's published one is refused (401)."""
    await local_user(app, "alice")
    headers, body = peer.signed(follow(peer), private_pem=rsa_pems("other")[0])
    await refused(app, client, headers, body, 401)


async def test_body_changed_after_signing_is_401(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A body that no longer matches the signed Digest is refused (401)."""
    await local_user(app, "alice")
    headers, _ = peer.signed(follow(peer))
    tampered = json.dumps(follow(peer, target="someone")).encode()
    await refused(app, client, headers, tampered, 401)


async def test_missing_digest_is_401(app: Quart, client: Client, peer: FakePeer) -> None:
    """A signed POST without its Digest header is refused (401)."""
    await local_user(app, "alice")
    headers, body = peer.signed(follow(peer))
    del headers["Digest"]
    await refused(app, client, headers, body, 401)


async def test_stale_date_is_401(app: Quart, client: Client, peer: FakePeer) -> None:
    """A signature dated two hours ago is refused (401)."""
    await local_user(app, "alice")
    headers, body = peer.signed(follow(peer), at=time.time() - 2 * 3600)
    await refused(app, client, headers, body, 401)


async def test_key_on_another_host_is_401(
    app: Quart, client: Client, peer: FakePeer, other_peer: FakePeer
) -> None:
    """A key served by another host, claiming to belong to the actor, is refused (401)."""
    await local_user(app, "alice")
    key_id = f"{other_peer.base_url}/keys/remote"
    other_peer.extra_docs["/keys/remote"] = {
        "id": key_id,
        "type": "Key",
        "owner": peer.actor_id("remote"),
        "publicKeyPem": rsa_pems()[1],
    }
    headers, body = peer.signed(follow(peer), key_id=key_id)
    await refused(app, client, headers, body, 401)


async def test_signer_other_than_actor_is_401(app: Quart, client: Client, peer: FakePeer) -> None:
    """A valid signature by one actor on an activity of another is refused (401)."""
    await local_user(app, "alice")
    headers, body = peer.signed(follow(peer, name="remote"), name="mallory")
    reason = await refused(app, client, headers, body, 401)
    assert "actor" in reason


async def test_cavage_and_rfc9421_follows_are_stored_once(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Valid cavage and RFC 9421 Follows are answered 202; a repeated activity is stored once."""
    await local_user(app, "alice")
    headers, body = peer.signed(follow(peer, 1), url=f"{LOCAL_BASE}/users/alice/inbox")
    assert (await post(client, "/users/alice/inbox", headers, body))[0] == 202
    headers, body = peer.signed(follow(peer, 1), url=f"{LOCAL_BASE}/users/alice/inbox")
    assert (await post(client, "/users/alice/inbox", headers, body))[0] == 202
    assert await count(app, "inbox_activities") == 1

    headers, body = peer.signed(follow(peer, 2, name="carol"), name="carol", scheme="rfc9421")
    assert (await post(client, "/inbox", headers, body))[0] == 202
    rows = await gapo(app).db.fetch_all("SELECT ap_id, ap_type FROM inbox_activities")
    assert sorted(r["ap_id"] for r in rows) == [
        f"{peer.base_url}/activities/follow-1",
        f"{peer.base_url}/activities/follow-2",
    ]
    assert await count(app, "jobs") == 2


async def test_oversized_body_is_413(app: Quart, client: Client, peer: FakePeer) -> None:
    """A body over 1 MB is refused with 413 before its signature or JSON are looked at."""
    body = b"{" + b" " * (1_048_576 + 10) + b"}"
    await refused(app, client, {"Content-Type": AP, "Host": LOCAL_HOST}, body, 413)


async def test_deeply_nested_json_is_400(app: Quart, client: Client, peer: FakePeer) -> None:
    """A correctly signed but absurdly nested activity is refused with 400."""
    await local_user(app, "alice")
    nested: dict[str, Any] = {}
    for _ in range(200):
        nested = {"a": nested}
    activity = {**follow(peer), "extra": nested}
    headers, body = peer.signed(activity)
    await refused(app, client, headers, body, 400)


async def test_blocked_domain_is_403(app: Quart, client: Client, peer: FakePeer) -> None:
    """Activities from a domain the admin blocked are refused with 403."""
    await local_user(app, "alice")
    await gapo(app).federation_admin.block_domain("127.0.0.1")
    headers, body = peer.signed(follow(peer))
    await refused(app, client, headers, body, 403)


async def test_actor_fetch_failure_is_503(app: Quart, client: Client, peer: FakePeer) -> None:
    """When the signer's actor cannot be fetched (the peer answers 500) the answer is 503."""
    await local_user(app, "alice")
    peer.actor_status = 500
    headers, body = peer.signed(follow(peer))
    await refused(app, client, headers, body, 503)


async def test_unknown_type_is_stored_and_ignored(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """An unknown activity type is accepted (202), stored, and marked ignored when applied."""
    activity = {
        "@context": AS,
        "id": f"{peer.base_url}/activities/odd-1",
        "type": "ExampleUnknownActivity",
        "actor": peer.actor_id("remote"),
        "object": f"{LOCAL_BASE}/users/alice",
    }
    headers, body = peer.signed(activity)
    assert (await post(client, "/inbox", headers, body))[0] == 202
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    row = await gapo(app).db.fetch_one("SELECT processed_at, result FROM inbox_activities")
    assert row["processed_at"] is not None
    assert row["result"].startswith("ignored")
    [job] = await gapo(app).db.fetch_all("SELECT state FROM jobs")
    assert job["state"] == "done"


async def test_key_its_owner_does_not_list_is_401(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A Key document naming an owner on its host whose actor document does not list that
    key: the owner answered, so the refusal is final (401), not "retry later" (503)."""
    await local_user(app, "alice")
    key_id = f"{peer.base_url}/keys/stray"
    peer.extra_docs["/keys/stray"] = {
        "id": key_id,
        "type": "Key",
        "owner": peer.actor_id("remote"),
        "publicKeyPem": rsa_pems()[1],
    }
    headers, body = peer.signed(follow(peer), key_id=key_id)
    reason = await refused(app, client, headers, body, 401)
    assert reason == "the key's owner does not list this key"
    # An actor document itself, fetched for a key id it does not list: 401 as well.
    headers, body = peer.signed(follow(peer, 2), key_id=f"{peer.actor_id('remote')}#other-key")
    assert await refused(app, client, headers, body, 401) == reason
