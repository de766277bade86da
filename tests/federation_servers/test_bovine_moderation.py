"""Interop with bovine for moderation: a deleted Gapo account's signed Delete of the actor,
and a report forwarded as a Flag from Gapo's instance actor, both verified by bovine."""

from __future__ import annotations

from typing import Any

import pytest

from tests.federation_bovine.bovine_harness import BovinePeer
from tests.helpers.instances import GapoInstance, WebUser, eventually

pytestmark = pytest.mark.federation


async def received(peer: BovinePeer, kind: str) -> list[dict[str, Any]]:
    return [e for e in await peer.inbox() if e["activity"].get("type") == kind]


async def test_a_deleted_account_reaches_bovine_as_a_verified_delete(
    gapo: GapoInstance, peer: BovinePeer
) -> None:
    """bovine follows gina; `gapo user delete gina` sends the Delete of her actor, signed by
    her key, which bovine verifies although her actor now answers 410."""
    gapo.create_user("gina")
    await peer.follow(gapo.handle("gina").lstrip("@"))
    await eventually(lambda: received(peer, "Accept"), timeout=30)

    assert "deleted" in gapo.cli("user", "delete", "gina")
    [delete] = await eventually(lambda: received(peer, "Delete"), timeout=30)
    assert delete["activity"]["object"] == gapo.actor("gina")
    assert delete["activity"]["actor"] == gapo.actor("gina")
    assert delete["key_id"] == f"{gapo.actor('gina')}#main-key"
    assert delete["verified"] is True, delete


async def test_a_forwarded_report_reaches_bovine_as_a_verified_flag(
    gapo: GapoInstance, peer: BovinePeer
) -> None:
    """hien reports bovine's actor and forwards it: bovine gets a Flag naming its actor,
    signed by Gapo's instance actor, with the comment and without hien."""
    gapo.create_user("hien")
    hien = await WebUser(gapo, "hien").login()
    try:
        account_id = await hien.follow(peer.actor_id)
        status = await hien.post_form(
            "/report",
            {"account_id": account_id, "comment": "Moo spam", "forward": "on"},
            csrf_from=f"/report?account_id={account_id}",
        )
        assert status == 201
    finally:
        await hien.close()
    [flag] = await eventually(lambda: received(peer, "Flag"), timeout=30)
    assert flag["verified"] is True, flag
    assert flag["activity"]["actor"] == f"{gapo.base_url}/actor"
    assert flag["key_id"] == f"{gapo.base_url}/actor#main-key"
    assert flag["activity"]["object"] == [peer.actor_id]
    assert flag["activity"]["content"] == "Moo spam"
    assert "hien" not in str(flag["activity"])
