"""Cached actor, WebFinger and NodeInfo documents: served from memory, gone on every change.

A profile save or a suspension, in this process or another one (the CLI here), empties the
cache before the next request; suspended and unknown accounts answer as before; content
negotiation is unchanged; ETags let a peer revalidate with 304.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.accounts.changes import ROTATE_BYTES, AccountChanges
from instance.errors import NotFound
from instance.federation.document_cache import DocumentCache
from tests.helpers.fake_peer import AP, local_user
from tests.helpers.processes import gapo as gapo_cli
from tests.helpers.social import gapo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bump_in_one_process_is_seen_by_another(tmp_path: Path) -> None:
    """Two counters on one file stand for two processes: each sees the other's bumps."""
    path = tmp_path / "run" / "account-changes"
    writer, reader = AccountChanges(path), AccountChanges(path)
    seen = reader.version()
    writer.bump()
    assert reader.version() != seen
    seen = reader.version()
    writer.bump()
    assert reader.version() != seen


def test_rotation_is_a_change_too(tmp_path: Path) -> None:
    path = tmp_path / "changes"
    path.write_bytes(b"." * (ROTATE_BYTES - 1))
    writer, reader = AccountChanges(path), AccountChanges(path)
    seen = reader.version()
    writer.bump()  # reaches the limit: the file starts again, empty
    assert path.stat().st_size == 0
    assert reader.version() != seen


async def test_cache_serves_until_changed_or_expired(tmp_path: Path) -> None:
    changes = AccountChanges(tmp_path / "changes")
    clock = Clock()
    cache = DocumentCache(changes, clock=clock)
    body = [b'{"n": 1}']

    async def build() -> bytes:
        return body[0]

    first = await cache.get("k", build, max_age=2)
    body[0] = b'{"n": 2}'
    assert (await cache.get("k", build, max_age=2)).body == b'{"n": 1}'  # cached
    assert cache.builds == 1
    changes.bump()  # another writer's commit
    assert (await cache.get("k", build, max_age=2)).body == b'{"n": 2}'
    assert (await cache.get("k", build, max_age=2)).etag != first.etag
    body[0] = b'{"n": 3}'
    clock.now = 2.5  # older than its max age
    assert (await cache.get("k", build, max_age=2)).body == b'{"n": 3}'


async def test_not_found_is_never_cached_and_concurrent_misses_build_once(
    tmp_path: Path,
) -> None:
    cache = DocumentCache(AccountChanges(tmp_path / "changes"))
    calls = 0

    async def missing() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise NotFound()

    for _ in range(2):
        results = await asyncio.gather(
            *(cache.get("gone", missing) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, NotFound) for r in results)
    assert calls == 2  # once per wave, never remembered

    async def slow() -> bytes:
        await asyncio.sleep(0.01)
        return b"{}"

    await asyncio.gather(*(cache.get("slow", slow) for _ in range(10)))
    assert cache.builds == 3


async def test_a_change_during_a_build_is_not_kept(tmp_path: Path) -> None:
    changes = AccountChanges(tmp_path / "changes")
    cache = DocumentCache(changes)
    body = [b"old"]

    async def build() -> bytes:
        read = body[0]
        changes.bump()  # committed while this build was reading
        await cache.get("other", build_other)  # another request sees the new version
        return read

    async def build_other() -> bytes:
        return b"x"

    assert (await cache.get("k", build)).body == b"old"
    body[0] = b"new"

    async def fresh() -> bytes:
        return body[0]

    assert (await cache.get("k", fresh)).body == b"new"


async def test_profile_save_and_suspension_reach_cached_documents(
    app: Quart, client: Client
) -> None:
    alice = await local_user(app, "alice")
    webfinger = {"resource": f"acct:alice@{gapo(app).settings.host}"}
    actor = await client.get("/users/alice", headers={"Accept": AP})
    assert (await actor.get_json())["name"] == "alice"
    assert (await client.get("/.well-known/webfinger", query_string=webfinger)).status_code == 200

    await gapo(app).accounts.update_profile(alice["id"], display_name="Alice Liddell", bio="")
    actor = await client.get("/users/alice", headers={"Accept": AP})
    assert (await actor.get_json())["name"] == "Alice Liddell"

    await gapo(app).accounts.suspend("alice")
    assert (await client.get("/users/alice", headers={"Accept": AP})).status_code == 404
    assert (await client.get("/.well-known/webfinger", query_string=webfinger)).status_code == 404


async def test_a_suspension_by_the_cli_reaches_this_process(app: Quart, client: Client) -> None:
    """`gapo user suspend` runs in another process: the cached actor goes all the same."""
    await local_user(app, "alice")
    assert (await client.get("/users/alice", headers={"Accept": AP})).status_code == 200
    settings = gapo(app).settings
    result = await asyncio.to_thread(
        gapo_cli,
        settings.data_dir,
        "user",
        "suspend",
        "alice",
        GAPO_BASE_URL=settings.base_url,
        GAPO_DATABASE_URL=settings.database_url,
    )
    assert result.returncode == 0, result.stderr
    assert (await client.get("/users/alice", headers={"Accept": AP})).status_code == 404


async def test_etag_revalidation_and_negotiation(app: Quart, client: Client) -> None:
    await local_user(app, "alice")
    first = await client.get("/users/alice", headers={"Accept": AP})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "max-age=60, public"
    assert "Accept" in first.headers["Vary"]
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    again = await client.get("/users/alice", headers={"Accept": AP, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert await again.get_data() == b""
    other = await client.get("/users/alice", headers={"Accept": AP, "If-None-Match": '"x"'})
    assert other.status_code == 200
    # A browser still gets the profile page, cached JSON or not.
    page = await client.get("/users/alice", headers={"Accept": "text/html"})
    assert page.status_code in (301, 302, 303) and page.headers["Location"].endswith("/@alice")
    nodeinfo = await client.get("/nodeinfo/2.1")
    assert nodeinfo.headers["ETag"] and nodeinfo.headers["Access-Control-Allow-Origin"] == "*"
