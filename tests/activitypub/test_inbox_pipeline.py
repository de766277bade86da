"""The inbox pipeline: each refusal with its status, key rotation, and what is let through."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub.inbox import (
    ActorGone,
    ActorUnavailable,
    BadActivity,
    BlockedDomain,
    InboxError,
    KeyNotListed,
    OriginMismatch,
    TooLarge,
    Unauthorized,
    VerifiedActivity,
    verify_inbox_request,
)
from activitypub.signatures import sign_cavage, sign_rfc9421

NOW = 1_750_000_000.0
INBOX = "https://local.example/inbox"
ALICE = "https://remote.example/users/alice"
ALICE_KEY = ALICE + "#main-key"
CAROL = "https://remote.example/users/carol"
MALLORY = "https://evil.example/users/mallory"
MALLORY_KEY = MALLORY + "#main-key"


def _pems(key: rsa.RSAPrivateKey) -> tuple[str, str]:
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


@pytest.fixture(scope="module")
def alice_pems() -> tuple[str, str]:
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def other_pems() -> tuple[str, str]:
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


class FakeKeys:
    """A key store: `cached` answers normal lookups, `fresh` answers refreshes."""

    def __init__(self) -> None:
        self.cached: dict[str, tuple[str, str] | None] = {}
        self.fresh: dict[str, tuple[str, str] | None] = {}
        self.calls: list[tuple[str, bool]] = []
        self.fail = False

    async def __call__(self, key_id: str, *, refresh: bool) -> tuple[str, str] | None:
        self.calls.append((key_id, refresh))
        if self.fail:
            raise TimeoutError("remote did not answer")
        if refresh and key_id in self.fresh:
            return self.fresh[key_id]
        return self.cached.get(key_id)


@pytest.fixture
def keys(alice_pems: tuple[str, str]) -> FakeKeys:
    store = FakeKeys()
    store.cached[ALICE_KEY] = (ALICE, alice_pems[1])
    return store


def create_note(actor: str = ALICE, note_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}/activities/1",
        "type": "Create",
        "actor": actor,
        "object": {
            "id": note_id or f"{actor}/notes/1",
            "type": "Note",
            "attributedTo": actor,
            "content": "hello",
        },
        **extra,
    }


def signed(
    activity: dict[str, Any] | bytes,
    private_pem: str,
    key_id: str = ALICE_KEY,
    scheme: str = "cavage",
) -> tuple[dict[str, str], bytes]:
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    sign = sign_cavage if scheme == "cavage" else sign_rfc9421
    headers = sign(
        "POST",
        INBOX,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=key_id,
        private_key_pem=private_pem,
        now=NOW,
    )
    return headers, body


async def run(
    headers: dict[str, str], body: bytes, keys: FakeKeys, **options: Any
) -> VerifiedActivity:
    return await verify_inbox_request(
        "POST", INBOX, headers, body, lookup_key=keys, now=NOW, **options
    )


async def refused(
    status: int, headers: dict[str, str], body: bytes, keys: FakeKeys, **options: Any
) -> InboxError:
    with pytest.raises(InboxError) as info:
        await run(headers, body, keys, **options)
    assert info.value.status == status, info.value.reason
    return info.value


# ---------------------------------------------------------------- accepted


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_signed_create_accepted(
    alice_pems: tuple[str, str], keys: FakeKeys, scheme: str
) -> None:
    headers, body = signed(create_note(), alice_pems[0], scheme=scheme)
    result = await run(headers, body, keys, run_blocking=asyncio.to_thread)
    assert result == VerifiedActivity(create_note(), ALICE, ALICE_KEY, scheme)
    assert keys.calls == [(ALICE_KEY, False)]


async def test_actor_given_as_object(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    activity = {**create_note(), "actor": {"id": ALICE, "type": "Person"}}
    headers, body = signed(activity, alice_pems[0])
    assert (await run(headers, body, keys)).actor_id == ALICE


async def test_announce_and_like_of_remote_objects_accepted(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    for kind in ("Announce", "Like"):
        activity = {
            "id": f"{ALICE}/activities/{kind}",
            "type": kind,
            "actor": ALICE,
            "object": "https://elsewhere.example/notes/9",
        }
        headers, body = signed(activity, alice_pems[0])
        assert (await run(headers, body, keys)).activity["type"] == kind


async def test_update_of_self_accepted(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    activity = {
        "id": f"{ALICE}#updates/1",
        "type": "Update",
        "actor": ALICE,
        "object": {"id": ALICE, "type": "Person", "name": "Alice"},
    }
    headers, body = signed(activity, alice_pems[0])
    assert (await run(headers, body, keys)).actor_id == ALICE


async def test_rotated_key_refetched_once(
    alice_pems: tuple[str, str], other_pems: tuple[str, str], keys: FakeKeys
) -> None:
    # Alice rotated to a new key; our cache still holds the old one.
    keys.cached[ALICE_KEY] = (ALICE, other_pems[1])
    keys.fresh[ALICE_KEY] = (ALICE, alice_pems[1])
    headers, body = signed(create_note(), alice_pems[0])
    assert (await run(headers, body, keys)).key_id == ALICE_KEY
    assert keys.calls == [(ALICE_KEY, False), (ALICE_KEY, True)]


# ---------------------------------------------------------------- refused


async def test_unsigned_refused(keys: FakeKeys) -> None:
    error = await refused(401, {"Content-Type": "application/json"}, b"{}", keys)
    assert isinstance(error, Unauthorized)
    assert error.reason == "request is not signed"
    assert keys.calls == []


async def test_wrong_key_refused_after_one_refetch(
    alice_pems: tuple[str, str], other_pems: tuple[str, str], keys: FakeKeys
) -> None:
    headers, body = signed(create_note(), other_pems[0])
    error = await refused(401, headers, body, keys)
    assert error.reason == "signature does not verify"
    assert keys.calls == [(ALICE_KEY, False), (ALICE_KEY, True)]


async def test_body_changed_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    headers, body = signed(create_note(), alice_pems[0])
    error = await refused(401, headers, body.replace(b"hello", b"HELLO"), keys)
    assert "Digest" in error.reason


async def test_stale_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    headers, body = signed(create_note(), alice_pems[0])
    with pytest.raises(Unauthorized, match="too old"):
        await verify_inbox_request("POST", INBOX, headers, body, lookup_key=keys, now=NOW + 7200)


async def test_unfetchable_key_is_503(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    headers, body = signed(create_note(), alice_pems[0])
    keys.cached[ALICE_KEY] = None
    assert isinstance(await refused(503, headers, body, keys), ActorUnavailable)
    keys.fail = True
    assert isinstance(await refused(503, headers, body, keys), ActorUnavailable)


async def test_key_not_listed_by_its_owner_is_401(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    async def unlisted(key_id: str, *, refresh: bool) -> tuple[str, str] | None:
        raise KeyNotListed("the key's owner does not list this key")

    headers, body = signed(create_note(), alice_pems[0])
    with pytest.raises(KeyNotListed) as info:
        await verify_inbox_request("POST", INBOX, headers, body, lookup_key=unlisted, now=NOW)
    assert info.value.status == 401


async def test_self_delete_of_vanished_actor_is_202(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    keys.cached[ALICE_KEY] = None
    activity = {"id": f"{ALICE}#delete", "type": "Delete", "actor": ALICE, "object": ALICE}
    headers, body = signed(activity, alice_pems[0])
    assert isinstance(await refused(202, headers, body, keys), ActorGone)


async def test_blocked_domain_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    seen: list[str] = []

    async def blocked(host: str) -> bool:
        seen.append(host)
        return host == "remote.example"

    headers, body = signed(create_note(), alice_pems[0])
    error = await refused(403, headers, body, keys, is_blocked_domain=blocked)
    assert isinstance(error, BlockedDomain)
    assert seen == ["remote.example"]
    assert keys.calls == []  # refused before any fetch


async def test_signer_other_than_actor_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    # Alice signs, but the activity claims Carol as its actor.
    headers, body = signed(create_note(actor=CAROL), alice_pems[0])
    error = await refused(401, headers, body, keys)
    assert error.reason == "signer is not the activity's actor"


async def test_key_on_another_host_refused(other_pems: tuple[str, str], keys: FakeKeys) -> None:
    # A lookup fooled by a key document on evil.example claiming to be Alice's.
    keys.cached[MALLORY_KEY] = (ALICE, other_pems[1])
    headers, body = signed(create_note(), other_pems[0], key_id=MALLORY_KEY)
    error = await refused(401, headers, body, keys)
    assert error.reason == "key is not on the actor's host"


async def test_object_on_another_host_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    activity = create_note(note_id="https://victim.example/notes/1")
    headers, body = signed(activity, alice_pems[0])
    error = await refused(403, headers, body, keys)
    assert isinstance(error, OriginMismatch)
    assert error.reason == "object is not on the actor's host"


async def test_delete_of_referenced_object_elsewhere_refused(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    activity = {
        "id": f"{ALICE}#delete-1",
        "type": "Delete",
        "actor": ALICE,
        "object": "https://victim.example/notes/1",
    }
    headers, body = signed(activity, alice_pems[0])
    assert isinstance(await refused(403, headers, body, keys), OriginMismatch)


async def test_activity_id_on_another_host_refused(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    activity = {**create_note(), "id": "https://victim.example/activities/1"}
    headers, body = signed(activity, alice_pems[0])
    assert isinstance(await refused(403, headers, body, keys), OriginMismatch)


async def test_update_of_someone_else_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    activity = {
        "id": f"{ALICE}#updates/2",
        "type": "Update",
        "actor": ALICE,
        "object": {"id": CAROL, "type": "Person", "name": "Not Carol"},
    }
    headers, body = signed(activity, alice_pems[0])
    error = await refused(403, headers, body, keys)
    assert error.reason == "an actor may update only itself"


@pytest.mark.parametrize(
    "attributed",
    [
        CAROL,
        {"id": CAROL, "type": "Person"},
        [{"type": "Person", "id": CAROL}, {"type": "Group", "id": f"{ALICE}/channel"}],
    ],
)
@pytest.mark.parametrize("kind", ["Create", "Update"])
async def test_object_attributed_to_someone_else_refused(
    alice_pems: tuple[str, str], keys: FakeKeys, attributed: Any, kind: str
) -> None:
    # Alice signs a note "by" Carol, her neighbour on remote.example.
    activity = create_note(type=kind)
    activity["object"]["attributedTo"] = attributed
    headers, body = signed(activity, alice_pems[0])
    error = await refused(403, headers, body, keys)
    assert error.reason == "the object is attributed to someone other than the actor"


@pytest.mark.parametrize(
    "attributed",
    [
        None,
        [ALICE],
        [{"type": "Person", "id": ALICE}, {"type": "Group", "id": f"{ALICE}/channel"}],
        [{"type": "Collection", "id": f"{CAROL}/moderators"}],
    ],
)
async def test_object_attributed_to_the_actor_or_nobody_accepted(
    alice_pems: tuple[str, str], keys: FakeKeys, attributed: Any
) -> None:
    activity = create_note()
    if attributed is None:
        del activity["object"]["attributedTo"]
    else:
        activity["object"]["attributedTo"] = attributed
    headers, body = signed(activity, alice_pems[0])
    assert (await run(headers, body, keys)).actor_id == ALICE


async def test_undo_of_someone_elses_activity_refused(
    alice_pems: tuple[str, str], keys: FakeKeys
) -> None:
    activity = {
        "id": f"{ALICE}#undo",
        "type": "Undo",
        "actor": ALICE,
        "object": {"id": f"{CAROL}#follow", "type": "Follow", "actor": CAROL, "object": ALICE},
    }
    headers, body = signed(activity, alice_pems[0])
    assert isinstance(await refused(403, headers, body, keys), OriginMismatch)


async def test_request_bound_to_our_origins(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    headers, body = signed(create_note(), alice_pems[0])
    ours = await run(headers, body, keys, origins=("https://local.example", "http://x.onion"))
    assert ours.actor_id == ALICE
    error = await refused(401, headers, body, keys, origins=("https://gapo.example",))
    assert error.reason == "request is not addressed to this server"
    assert keys.calls == [(ALICE_KEY, False)]  # the second was refused before any lookup


async def test_oversized_body_refused_before_parsing(keys: FakeKeys) -> None:
    body = b"{" + b" " * 2000 + b"}"
    error = await refused(413, {}, body, keys, max_body=1000)
    assert isinstance(error, TooLarge)
    # A lying Content-Length is refused too, before the body is looked at.
    await refused(413, {"Content-Length": "5000000"}, b"{}", keys)


async def test_deeply_nested_body_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    nested: dict[str, Any] = {"id": f"{ALICE}/notes/1", "type": "Note"}
    for _ in range(40):
        nested = {"inner": nested}
    headers, body = signed(create_note(extra=nested), alice_pems[0])
    error = await refused(400, headers, body, keys)
    assert error.reason == "JSON nested too deeply"
    # Far past the interpreter's recursion limit: still a 400, not a crash.
    headers, body = signed(b"[" * 100_000 + b"]" * 100_000, alice_pems[0])
    assert isinstance(await refused(400, headers, body, keys), BadActivity)
    assert keys.calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "body is not JSON"),
        (b"[1, 2]", "activity must be a JSON object"),
        (b'{"type": "Create", "actor": "https://remote.example/users/alice"}', "id"),
        (b'{"id": "https://remote.example/a/1", "actor": "https://remote.example/u"}', "type"),
        (b'{"id": "https://remote.example/a/1", "type": "Create"}', "actor"),
        (
            b'{"id": "https://remote.example/a/1", "type": "Create", "actor": ["a", "b"]}',
            "actor",
        ),
    ],
)
async def test_malformed_activities_refused(
    alice_pems: tuple[str, str], keys: FakeKeys, body: bytes, reason: str
) -> None:
    headers, body = signed(body, alice_pems[0])
    error = await refused(400, headers, body, keys)
    assert reason in error.reason


async def test_create_without_object_refused(alice_pems: tuple[str, str], keys: FakeKeys) -> None:
    activity = {"id": f"{ALICE}/activities/9", "type": "Create", "actor": ALICE}
    headers, body = signed(activity, alice_pems[0])
    assert isinstance(await refused(400, headers, body, keys), BadActivity)
