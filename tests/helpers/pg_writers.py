"""A writer process for the PostgreSQL concurrency tests: `python -m tests.helpers.pg_writers`.

Each run is one more process on the same database, doing what the post writer does for a
like (the reaction row, then the counter, in one transaction) or a follow, many at once
on its own pool. It prints how many of its writes inserted, and how many were answered
503 (a conflict that could not be retried): never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import sys

from instance.db import follows, posts, reactions
from instance.db.postgres import PostgresDatabase, WriteConflict


async def _like(db: PostgresDatabase, post_id: int, account_id: int, row_id: int) -> bool:
    async with db.transaction() as tx:
        added = await reactions.add(
            tx, "likes", row_id=row_id, account_id=account_id, post_id=post_id, ap_id=None, now=1
        )
        if added:
            await posts.bump_count(tx, post_id, "likes_count", 1)
        return added


async def _follow(db: PostgresDatabase, followee: int, follower: int, row_id: int) -> bool:
    async with db.transaction() as tx:
        row = await follows.upsert_follow(
            tx,
            follow_id=row_id,
            follower_id=follower,
            followee_id=followee,
            state="accepted",
            ap_id=None,
            now=1,
        )
        return bool(row["id"] == row_id)


async def main(action: str, url: str, target: int, first_row_id: int, accounts: list[int]) -> None:
    db = PostgresDatabase(url, pool_size=4)
    await db.open()
    write = _like if action == "like" else _follow
    done = {"inserted": 0, "conflicts": 0}

    async def one(n: int, account_id: int) -> None:
        try:
            if await write(db, target, account_id, first_row_id + n):
                done["inserted"] += 1
        except WriteConflict:
            done["conflicts"] += 1

    try:
        await asyncio.gather(*(one(n, a) for n, a in enumerate(accounts)))
    finally:
        await db.close()
    print(json.dumps(done))


if __name__ == "__main__":
    action, url, target, first = sys.argv[1:5]
    asyncio.run(main(action, url, int(target), int(first), [int(a) for a in sys.argv[5:]]))
