"""The logged-in home feed page (GET /home) under wrk, next to the bare Quart ceiling.

    .venv/bin/python bench/bench_feed.py [--posts 500000 --accounts 10000 --follows 300]
                                         [--workers 1,2] [--seconds 10]

What: requests per second and latency of a signed-in reader's /home HTML page at 64 and at
8 connections, against `gapo serve` with 1 and 2 workers, and in the same run against the
bare Quart + Hypercorn app of bench/harness.py (`GET /`, a 20-item Jinja page) with the same
worker count: the ratio to that ceiling is the figure (issue 15: ≥ 0.30× and ≥ 800 req/s at
64 connections, p99 < 150 ms; p50 < 10 ms at 8).

How: a data dir made by `gapo migrate`, one reader made with `gapo user create`, then
accounts (half local, half remote, some with avatars), follows, posts (some replies, some
behind a content warning, a fifth with 1-3 attachments), shares (a quarter of the reader's
entries), likes by the reader, blocks and mutes, all bulk-inserted straight into SQLite
(executemany). The filled data dir is kept in /tmp under a name made of the options, so
the next run with the same options copies it instead of filling again. Then the reader logs
in once through the form (CSRF token) with aiohttp, and wrk sends the session cookies.
Every wrk answer must be 200 (the table prints the statuses) and the page must show posts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BareQuart, GapoServer, Row, create_user, print_table, wrk

from instance.ids import EPOCH_MS, NODE_BITS, SEQ_BITS, IdGenerator

READER = "reader"
PASSWORD = "bench feed reader password"  # noqa: S105 (a throwaway instance)
ENV = ("GAPO_RUN_JOBS=false",)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VISIBILITIES = ["public"] * 8 + ["unlisted", "followers"]
# Bumped when fill() changes, so a cached data dir of an older fill is not reused.
FILL_VERSION = 4
WORDS = [
    *[
        "hôm",
        "nay",
        "trời",
        "đẹp",
        "quá,",
        "đi",
        "cà",
        "phê",
        "với",
        "bạn",
        "bè",
        "rồi",
        "về",
        "nhà",
        "đọc",
        "sách;",
    ],
    *[
        "the",
        "fediverse",
        "is",
        "a",
        "lot",
        "of",
        "small",
        "servers",
        "talking",
        "to",
        "each",
        "other",
    ],
]


def id_at(seconds: float, node: int, seq: int) -> int:
    """An id as the generator would have minted it at that moment: posts and shares of the
    past sort among each other by time, as the feed's one cursor expects."""
    ms = int(seconds * 1000) - EPOCH_MS
    return (ms << (NODE_BITS + SEQ_BITS)) | (node << SEQ_BITS) | (seq & ((1 << SEQ_BITS) - 1))


def fill(path: Path, *, accounts: int, posts: int, follows: int, seed: int) -> dict[str, int]:
    """Bulk rows around the CLI-made reader; returns counts for the report."""
    rng = random.Random(seed)
    ids = IdGenerator(1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    now = int(time.time())
    reader = conn.execute(
        "SELECT account_id FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE a.username = ?",
        (READER,),
    ).fetchone()[0]
    account_ids = [ids.next_id() for _ in range(accounts)]
    half = accounts // 2
    rows = []
    for i, a in enumerate(account_ids):
        local = i < half
        ap_id = None if local else f"https://remote.example/users/r{i}"
        avatar = f"https://remote.example/avatars/r{i}.png" if not local and i % 3 == 0 else None
        rows.append(
            (
                a,
                int(local),
                f"u{i}",
                f"u{i}",
                "" if local else "remote.example",
                f"Person {i}" if i % 2 else "",
                avatar,
                now - 86400 * 30,
                now,
                ap_id,
            )
        )
    conn.executemany(
        "INSERT INTO accounts (id, local, username, username_key, domain, display_name,"
        " avatar_url, created_at, updated_at, ap_id, ap_type)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Person')",
        rows,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO remote_files (url_hash, url, created_at) VALUES (?, ?, ?)",
        [(hashlib.sha256(r[6].encode()).hexdigest(), r[6], now) for r in rows if r[6]],
    )
    is_local = {a: i < half for i, a in enumerate(account_ids)}
    followed = rng.sample(account_ids, follows)
    conn.executemany(
        "INSERT INTO follows (id, follower_id, followee_id, state, created_at)"
        " VALUES (?, ?, ?, 'accepted', ?)",
        [(ids.next_id(), reader, f, now) for f in followed],
    )
    # Posts over the last ten days, oldest first (ids sort by time, as the generator's do).
    post_rows: list[tuple[object, ...]] = []
    media_rows: list[tuple[object, ...]] = []
    remote_rows: list[tuple[object, ...]] = []
    replies: dict[int, int] = {}
    recent: list[int] = []
    for n in range(posts):
        author = rng.choice(account_ids)
        moment = now - (posts - n) * 864000 / posts
        post_id = id_at(moment, 2, n)
        local = is_local[author]
        created = int(moment)
        text = " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))
        parent = rng.choice(recent) if recent and rng.random() < 0.1 else None
        if parent is not None:
            replies[parent] = replies.get(parent, 0) + 1
        post_rows.append(
            (
                post_id,
                author,
                int(local),
                f"<p>{text} #{n}</p>",
                rng.choice(VISIBILITIES),
                "spoilers" if rng.random() < 0.05 else "",
                parent,
                created,
            )
        )
        recent.append(post_id)
        if len(recent) > 500:
            recent.pop(0)
        if rng.random() >= 0.2:
            continue
        for position in range(rng.choice([1, 1, 2, 3])):
            kind = "video" if rng.random() < 0.15 else "image"
            width, height = rng.choice([(1280, 720), (1080, 1080), (720, 1280)])
            mtype = "video/mp4" if kind == "video" else "image/webp"
            if local:
                file_key = f"{post_id:x}{position}{'v' if kind == 'video' else 'i'}.webp"
                thumb_key = f"{post_id:x}{position}t.webp"
                remote_url = remote_preview = None
                state = "ready"
            else:
                file_key = thumb_key = None
                remote_url = f"https://remote.example/files/{post_id}_{position}.jpg"
                remote_preview = f"https://remote.example/files/{post_id}_{position}_s.jpg"
                state = "remote"
                for url in (remote_url, remote_preview):
                    remote_rows.append((hashlib.sha256(url.encode()).hexdigest(), url, now))
            media_rows.append(
                (
                    ids.next_id(),
                    author,
                    post_id,
                    position,
                    kind,
                    state,
                    mtype,
                    file_key,
                    thumb_key,
                    remote_url,
                    remote_preview,
                    width,
                    height,
                    "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                    f"photo {position} of post {n}",
                    created,
                )
            )
    conn.executemany(
        "INSERT INTO posts (id, account_id, local, content_html, visibility, summary,"
        " in_reply_to_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        post_rows,
    )
    conn.executemany(
        "UPDATE posts SET replies_count = ? WHERE id = ?", [(c, p) for p, c in replies.items()]
    )
    conn.executemany(
        "INSERT INTO media (id, account_id, post_id, position, kind, state, media_type,"
        " file_key, thumb_key, remote_url, remote_preview_url, width, height,"
        " blurhash, description, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        media_rows,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO remote_files (url_hash, url, created_at) VALUES (?, ?, ?)",
        remote_rows,
    )
    # Shares: some by anyone, more by the reader's follows so that about a quarter of the
    # reader's entries are shares (each one was checked for blocks on its own before).
    followed_set = set(followed)
    sharers = [rng.choice(account_ids) for _ in range(posts // 20)]
    sharers += [rng.choice(followed) for _ in range(posts * follows // accounts // 3)]
    shares_in = []
    taken: set[tuple[int, int]] = set()
    for n, sharer in enumerate(sharers):
        # A moment in the ten days, and a public post of the day before it.
        moment = now - rng.uniform(0, 864000)
        newest = min(posts - 1, int(posts - (now - moment) * posts / 864000))
        row = post_rows[rng.randint(max(0, newest - posts // 10), newest)]
        if row[4] != "public" or (sharer, row[0]) in taken or int(row[7]) > moment:
            continue
        taken.add((sharer, row[0]))
        shares_in.append((id_at(moment, 3, n), sharer, row[0], int(moment)))
    conn.executemany(
        "INSERT OR IGNORE INTO shares (id, account_id, post_id, created_at) VALUES (?, ?, ?, ?)",
        shares_in,
    )
    conn.execute(
        "UPDATE posts SET shares_count = (SELECT COUNT(*) FROM shares s WHERE s.post_id = posts.id)"
        " WHERE id IN (SELECT post_id FROM shares)"
    )
    # The reader likes some posts of their follows; a few others liked by anyone.
    seen = [r[0] for r in post_rows if r[1] in followed_set]
    liked = rng.sample(seen, len(seen) // 10)
    conn.executemany(
        "INSERT INTO likes (id, account_id, post_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), reader, p, now) for p in liked],
    )
    conn.executemany(
        "UPDATE posts SET likes_count = ? WHERE id = ?",
        [(rng.randint(1, 40), p) for p in liked],
    )
    # Blocks and mutes by the reader, some of them of followed accounts.
    hidden = rng.sample(account_ids, 40)
    conn.executemany(
        "INSERT INTO blocks (id, account_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), reader, a, now) for a in hidden[:20]],
    )
    conn.executemany(
        "INSERT INTO mutes (id, account_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        [(ids.next_id(), reader, a, now) for a in hidden[20:]],
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return {"media": len(media_rows), "shares": len(shares_in), "likes": len(liked)}


def prepared_data_dir(args: argparse.Namespace, into: Path) -> None:
    """A filled data dir at `into`: copied from the /tmp cache, or made and then cached."""
    key = hashlib.sha256(
        f"{FILL_VERSION} {args.posts} {args.accounts} {args.follows} {args.seed}".encode()
    ).hexdigest()[:12]
    cached = Path(tempfile.gettempdir()) / f"gapo-bench-feed-{key}"
    if not (cached / "done").exists():
        shutil.rmtree(cached, ignore_errors=True)
        building = cached.with_name(cached.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        data = building / "data"
        start = time.perf_counter()
        # Migrations and the reader through the real commands; then bulk rows.
        with GapoServer(data, env=ENV):
            pass
        create_user(data, READER, PASSWORD, ENV)
        counts = fill(
            data / "gapo.sqlite3",
            accounts=args.accounts,
            posts=args.posts,
            follows=args.follows,
            seed=args.seed,
        )
        print(
            f"filled {args.posts} posts, {args.accounts} accounts, {args.follows} follows,"
            f" {counts['shares']} shares, {counts['media']} media rows, {counts['likes']}"
            f" likes by the reader in {time.perf_counter() - start:.1f} s (cached in {cached})"
        )
        (building / "done").write_text("ok\n")
        building.rename(cached)
    shutil.copytree(cached / "data", into)


async def login_cookie(base: str) -> str:
    """The Cookie header of a reader logged in through the form, for wrk."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{base}/login") as page:
            token = CSRF_RE.search(await page.text())
            if page.status != 200 or token is None:
                raise SystemExit(f"GET /login answered {page.status} without a CSRF token")
        form = {"login": READER, "password": PASSWORD, "next": "", "csrf_token": token.group(1)}
        async with session.post(f"{base}/login", data=form, allow_redirects=False) as reply:
            if reply.status not in (302, 303):
                raise SystemExit(f"login answered {reply.status}: {await reply.text()}")
        cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
        async with session.get(f"{base}/home", allow_redirects=False) as home:
            body = await home.text()
            if home.status != 200 or body.count('<article class="post"') < 10:
                raise SystemExit(f"/home answered {home.status} without a feed:\n{body[:2000]}")
            print(
                f"/home: {len(body)} bytes, {body.count('<article')} posts,"
                f" {body.count('shared</p>')} shares, {body.count('media-grid media-count')}"
                " media grids"
            )
    return cookie


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--connections", default="64,8", help="comma-separated")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    if args.follows >= args.accounts:
        parser.error("--follows must be below --accounts")
    rows: list[Row] = []
    notes: list[str] = []
    connections = [int(c) for c in args.connections.split(",")]
    with tempfile.TemporaryDirectory(prefix="gapo-bench-feed-") as tmp:
        data_dir = Path(tmp) / "data"
        prepared_data_dir(args, data_dir)
        for workers in (int(w) for w in args.workers.split(",")):
            with GapoServer(data_dir, workers=workers, env=ENV) as gapo:
                cookie = asyncio.run(login_cookie(gapo.base_url))
                headers = {"Cookie": cookie}
                with BareQuart(workers=workers) as bare:
                    for conns in connections:
                        # A short warm-up: templates compiled, caches filled, pools open.
                        wrk(f"{gapo.base_url}/home", connections=conns, seconds=2, headers=headers)
                        ceiling = wrk(f"{bare.base_url}/", connections=conns, seconds=args.seconds)
                        cpu = gapo.cpu_seconds()
                        got = wrk(
                            f"{gapo.base_url}/home",
                            connections=conns,
                            seconds=args.seconds,
                            headers=headers,
                        )
                        cpu = gapo.cpu_seconds() - cpu
                        notes.append(
                            f"{workers} worker(s), {conns} connections: gapo used"
                            f" {cpu * 1000 / max(1, got.requests):.2f} ms of CPU per page"
                            f" ({got.requests} pages, {cpu:.1f} CPU s over {got.seconds:.1f} s)"
                        )
                        rows.append(
                            Row.of(
                                "bare GET / (20-item Jinja page)",
                                "bare",
                                bare,
                                ceiling,
                                connections=conns,
                                workers=workers,
                            )
                        )
                        rows.append(
                            Row.of(
                                "home feed HTML, logged in",
                                "gapo",
                                gapo,
                                got,
                                connections=conns,
                                workers=workers,
                                ceiling=ceiling,
                            )
                        )
                problems = gapo.log_problems()
                if problems:
                    print(f"server log: {len(problems)} error line(s), first: {problems[0][:300]}")
    print_table(rows)
    print()
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
