"""The home feed and the public timelines."""

from __future__ import annotations

from instance.db import Database
from instance.db import feeds as feeds_q
from instance.db.connection import Row

PAGE = 20


class FeedService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def home(self, account_id: int, *, max_id: int | None = None) -> list[Row]:
        return await feeds_q.home(self.db, account_id, limit=PAGE, max_id=max_id)

    async def local(self, *, max_id: int | None = None) -> list[Row]:
        return await feeds_q.public(self.db, local_only=True, limit=PAGE, max_id=max_id)

    async def federated(self, *, max_id: int | None = None) -> list[Row]:
        return await feeds_q.public(self.db, local_only=False, limit=PAGE, max_id=max_id)
