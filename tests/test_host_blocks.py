"""Blocked hosts answered from memory: a block made by any process is seen, never missed."""

from __future__ import annotations

from pathlib import Path

import pytest
from quart import Quart

from instance.accounts.changes import AccountChanges
from instance.admin.federation import FederationAdmin
from instance.db import users as users_q
from instance.federation import host_blocks
from instance.federation.host_blocks import BlockedHosts
from tests.helpers.fake_peer import local_user
from tests.helpers.social import gapo


async def test_a_block_made_elsewhere_is_seen_at_the_next_look(
    app: Quart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block (and an unblock) made through another handle on the shared version file, as
    `gapo domain block` in another process does, empties this process's cache."""
    monkeypatch.setattr(host_blocks, "CHECK_EVERY", 0.0)  # look at the file every time
    services = gapo(app)
    path = tmp_path / "host-blocks"
    mine = BlockedHosts(services.db, AccountChanges(path))
    assert not await mine.is_blocked("bad.example")
    assert not await mine.is_blocked("bad.example")  # from memory now
    other = FederationAdmin(services.db, services.queue.wakeup, host_changes=AccountChanges(path))
    await other.block_domain("Bad.Example")
    assert await mine.is_blocked("bad.example")
    await other.block_domain("bad.example", blocked=False)
    assert not await mine.is_blocked("BAD.example")


async def test_a_block_made_here_counts_at_once(app: Quart, tmp_path: Path) -> None:
    """In the process that made the block there is no wait at all."""
    services = gapo(app)
    changes = AccountChanges(tmp_path / "host-blocks")
    mine = BlockedHosts(services.db, changes)
    assert not await mine.is_blocked("bad.example")
    await FederationAdmin(services.db, services.queue.wakeup, host_changes=changes).block_domain(
        "bad.example"
    )
    assert await mine.is_blocked("bad.example")


async def test_the_mode_and_allowlist_changed_elsewhere_are_seen(
    app: Quart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switching to allowlist mode in another process refuses a host this process had
    answered from memory; allowing it, then reopening, are seen too."""
    monkeypatch.setattr(host_blocks, "CHECK_EVERY", 0.0)
    services = gapo(app)
    await local_user(app, "rooty")
    await services.accounts.promote("rooty", "admin")
    staff = await users_q.get_by_username(services.db, "rooty")
    path = tmp_path / "host-blocks"
    mine = BlockedHosts(services.db, AccountChanges(path))
    assert not await mine.is_blocked("friend.example")
    other = FederationAdmin(services.db, services.queue.wakeup, host_changes=AccountChanges(path))
    await other.set_mode(staff, "allowlist", "closing ranks")
    assert await mine.is_blocked("friend.example")
    await other.allow(staff, "Friend.Example", "a friend")
    assert not await mine.is_blocked("friend.example")
    assert await mine.is_blocked("stranger.example")
    await other.set_mode(staff, "open", "reopening")
    assert not await mine.is_blocked("stranger.example")
