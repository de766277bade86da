"""Home feed and public timeline latency on a large SQLite database.

Builds a database with the real migrations, fills it with accounts, follows and posts
(bulk inserts straight into SQLite for speed), then times the app's own feed queries
through `instance.db.Database`, the way a request runs them.

    .venv/bin/python bench/bench_home_feed.py --posts 1000000 --accounts 5000 --follows 300

The reader also blocks and mutes a few accounts (so the block/mute filters do real work), and
a share is made for every twentieth post (the home feed merges shares by followed accounts).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from instance.db import feeds as feeds_q
from instance.db.migrate import migrate
from instance.db.sqlite import SqliteDatabase
from instance.ids import IdGenerator

VISIBILITIES = ["public"] * 7 + ["unlisted", "followers", "direct"]


def fill(path: Path, *, accounts: int, posts: int, follows: int, seed: int) -> int:
    rng = random.Random(seed)
    ids = IdGenerator(1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    now = int(time.time())
    account_ids = [ids.next_id() for _ in range(accounts)]
    conn.executemany(
        "INSERT INTO accounts (id, local, username, username_key, domain, created_at,"
        " updated_at, ap_type) VALUES (?, ?, ?, ?, ?, ?, ?, 'Person')",
        [
            (
                a,
                int(i < accounts // 2),
                f"u{i}",
                f"u{i}",
                "" if i < accounts // 2 else "remote.example",
                now,
                now,
            )
            for i, a in enumerate(account_ids)
        ],
    )
    reader = account_ids[0]
    followed = rng.sample(account_ids[1:], min(follows, accounts - 1))
    conn.executemany(
        "INSERT INTO follows (id, follower_id, followee_id, state, created_at)"
        " VALUES (?, ?, ?, 'accepted', ?)",
        [(ids.next_id(), reader, f, now) for f in followed],
    )
    batch: list[tuple[object, ...]] = []
    for _ in range(posts):
        author = rng.randrange(accounts)  # the first half of the accounts are local
        batch.append(
            (
                ids.next_id(),
                account_ids[author],
                int(author < accounts // 2),
                "<p>hello</p>",
                rng.choice(VISIBILITIES),
                now,
            )
        )
        if len(batch) >= 50_000:
            conn.executemany(
                "INSERT INTO posts (id, account_id, local, content_html, visibility, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch.clear()
    if batch:
        conn.executemany(
            "INSERT INTO posts (id, account_id, local, content_html, visibility, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            batch,
        )
    # Blocks and mutes by the reader, some of followed accounts; shares of public posts.
    hidden = rng.sample(account_ids[1:], 40)
    conn.executemany(
        "INSERT INTO blocks (id, account_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), reader, a, now) for a in hidden[:20]],
    )
    conn.executemany(
        "INSERT INTO mutes (id, account_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), reader, a, now) for a in hidden[20:]],
    )
    public_ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM posts WHERE visibility = 'public' AND id % 20 = 0"
        ).fetchall()
    ]
    conn.executemany(
        "INSERT OR IGNORE INTO shares (id, account_id, post_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), rng.choice(account_ids), pid, now) for pid in public_ids],
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return reader


async def time_query(label: str, run: object, rounds: int) -> None:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        rows = await run()  # type: ignore[operator]
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(
        f"{label:<34} rows={len(rows):<3} p50={statistics.median(timings):7.2f} ms"
        f"  p95={timings[int(len(timings) * 0.95) - 1]:7.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--follows", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        await migrate(f"sqlite:///{path}", path)
        start = time.perf_counter()
        reader = fill(
            path, accounts=args.accounts, posts=args.posts, follows=args.follows, seed=args.seed
        )
        print(
            f"filled {args.posts} posts, {args.accounts} accounts, {args.follows} follows"
            f" in {time.perf_counter() - start:.1f} s"
        )
        db = SqliteDatabase(path)
        await db.open()
        try:
            first = await feeds_q.home(db, reader, limit=20, max_id=None)
            deep = first[-1]["id"] if first else None
            await time_query(
                "home feed, first page",
                lambda: feeds_q.home(db, reader, limit=20, max_id=None),
                args.rounds,
            )
            await time_query(
                "home feed, next page",
                lambda: feeds_q.home(db, reader, limit=20, max_id=deep),
                args.rounds,
            )
            await time_query(
                "home feed shares, first page",
                lambda: feeds_q.home_shares(db, reader, limit=20, max_id=None),
                args.rounds,
            )
            await time_query(
                "local timeline",
                lambda: feeds_q.public(db, local_only=True, limit=20, max_id=None),
                args.rounds,
            )
            await time_query(
                "federated timeline",
                lambda: feeds_q.public(db, local_only=False, limit=20, max_id=None),
                args.rounds,
            )
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
