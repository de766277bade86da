"""Mutes: a person's private choice to stop seeing another account's posts and shares.

Nothing federates and the muted account is never told; only the muter's timelines change.
"""

from __future__ import annotations

from instance.db import Database
from instance.db import mutes as mutes_q
from instance.db.connection import Row
from instance.errors import N_, BadRequest
from instance.ids import IdGenerator, now


class MuteService:
    def __init__(self, db: Database, ids: IdGenerator) -> None:
        self.db = db
        self.ids = ids

    async def mute(self, account: Row, target: Row) -> None:
        if account["id"] == target["id"]:
            raise BadRequest(N_("You cannot mute yourself."))
        await mutes_q.add(
            self.db,
            mute_id=self.ids.next_id(),
            account_id=account["id"],
            target_id=target["id"],
            now=now(),
        )

    async def unmute(self, account: Row, target: Row) -> None:
        await mutes_q.remove(self.db, account["id"], target["id"])

    async def is_muted(self, account_id: int, target_id: int) -> bool:
        return await mutes_q.exists(self.db, account_id, target_id)
