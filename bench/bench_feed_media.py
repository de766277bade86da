"""Logged-in home feed page (GET /home) with photo/video attachments, over real HTTP.

    .venv/bin/python bench/bench_feed_media.py [--posts 50000 --accounts 2000 --follows 300]

What: the time `gapo serve` takes to answer a reader's /home HTML page when about a third
of the posts carry 1-4 attachments, next to the same page for a reader whose followed
accounts post no media, and next to a bare Quart + Hypercorn app rendering a tiny Jinja
template (the framework's ceiling on this machine: `BareQuart` of bench/harness.py, on the
Hypercorn settings of `gapo serve`).

How: a temporary data dir; `gapo migrate` (the real migrations); two readers made with
`gapo user create --password-stdin`; then accounts (half local, half remote), follows,
posts and `media` rows bulk-inserted straight into SQLite (like bench_home_feed.py). Local
attachments get storage keys (`<24 urlsafe chars>.webp`, state 'ready'); remote ones get
remote_url/remote_preview_url and a `remote_files` row each, with state 'remote' as the
post writer stores them (instance/posts/attachments.py). Reader "reader_media" follows accounts
whose posts carry media, "reader_plain" follows other accounts whose posts carry none.
Then `gapo serve` (one worker, jobs off) and the bare app start on free loopback ports,
each reader logs in through the login form (CSRF token), and each page is fetched N times
one after another, then M times with C requests in flight. Every answer must be 200, and
the media page must contain media markup (`media-grid`, `/media/`), else the run fails.
The client shares the machine's CPUs with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import re
import secrets
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BareQuart, Server, create_user, percentile, run_migrate

from instance.ids import IdGenerator

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench feed media reader password"  # noqa: S105 (a throwaway instance)
ENV = ["GAPO_RUN_JOBS=false", "GAPO_SQLITE_SYNCHRONOUS=NORMAL"]
VISIBILITIES = ["public"] * 8 + ["unlisted", "followers"]


def storage_key(ext: str) -> str:
    return f"{secrets.token_urlsafe(18)}.{ext}"  # 24 urlsafe characters, like new_key()


def fill(path: Path, *, accounts: int, posts: int, follows: int, seed: int) -> dict[str, int]:
    """Bulk rows; returns counts. Readers `media` and `plain` exist already (CLI-made)."""
    rng = random.Random(seed)
    ids = IdGenerator(1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    now = int(time.time())
    readers = dict(
        conn.execute(
            "SELECT a.username, a.id FROM users u JOIN accounts a ON a.id = u.account_id"
        ).fetchall()
    )
    account_ids = [ids.next_id() for _ in range(accounts)]
    half = accounts // 2
    rows = []
    for i, a in enumerate(account_ids):
        local = i < half
        ap_id = None if local else f"https://remote.example/users/r{i}"
        rows.append(
            (a, int(local), f"u{i}", f"u{i}", "" if local else "remote.example", now, now, ap_id)
        )
    conn.executemany(
        "INSERT INTO accounts (id, local, username, username_key, domain, created_at,"
        " updated_at, ap_id, ap_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Person')",
        rows,
    )
    is_local = {a: i < half for i, a in enumerate(account_ids)}
    shuffled = account_ids[:]
    rng.shuffle(shuffled)
    followed_media = shuffled[:follows]
    followed_plain = set(shuffled[follows : 2 * follows])  # their posts never carry media
    conn.executemany(
        "INSERT INTO follows (id, follower_id, followee_id, state, created_at)"
        " VALUES (?, ?, ?, 'accepted', ?)",
        [(ids.next_id(), readers["reader_media"], f, now) for f in followed_media]
        + [(ids.next_id(), readers["reader_plain"], f, now) for f in followed_plain],
    )
    post_rows: list[tuple[object, ...]] = []
    media_rows: list[tuple[object, ...]] = []
    remote_rows: list[tuple[object, ...]] = []
    for n in range(posts):
        author = rng.choice(account_ids)
        post_id = ids.next_id()
        local = is_local[author]
        post_rows.append(
            (post_id, author, int(local), f"<p>post {n} hello</p>", rng.choice(VISIBILITIES), now)
        )
        if author in followed_plain or rng.random() >= 1 / 3:
            continue
        for position in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
            kind = "video" if rng.random() < 0.15 else "image"
            width, height = rng.choice([(1280, 720), (1080, 1080), (720, 1280)])
            duration = round(rng.uniform(3, 60), 2) if kind == "video" else None
            mtype = "video/mp4" if kind == "video" else "image/webp"
            if local:
                file_key = storage_key("mp4" if kind == "video" else "webp")
                thumb_key = storage_key("webp")
                remote_url = remote_preview = None
                state = "ready"
            else:
                file_key = thumb_key = None
                ext = "mp4" if kind == "video" else "jpg"
                remote_url = f"https://remote.example/files/{post_id}_{position}.{ext}"
                remote_preview = f"https://remote.example/files/{post_id}_{position}_s.jpg"
                state = "remote"
                for url in (remote_url, remote_preview):
                    remote_rows.append((hashlib.sha256(url.encode()).hexdigest(), url, now))
            media_rows.append(
                (
                    *(ids.next_id(), author, post_id, position, kind, state, mtype, file_key),
                    *(thumb_key, remote_url, remote_preview, width, height, duration),
                    *("LEHV6nWB2yk8pyo0adR*.7kCMdnj", f"photo {position} of post {n}", now),
                )
            )
    conn.executemany(
        "INSERT INTO posts (id, account_id, local, content_html, visibility, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        post_rows,
    )
    conn.executemany(
        "INSERT INTO media (id, account_id, post_id, position, kind, state, media_type,"
        " file_key, thumb_key, remote_url, remote_preview_url, width, height, duration,"
        " blurhash, description, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        media_rows,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO remote_files (url_hash, url, created_at) VALUES (?, ?, ?)",
        remote_rows,
    )
    conn.commit()
    conn.execute("ANALYZE")
    with_media = conn.execute("SELECT COUNT(DISTINCT post_id) FROM media").fetchone()[0]
    conn.close()
    return {"media": len(media_rows), "posts_with_media": with_media}


@dataclass
class Result:
    label: str
    mode: str
    n: int
    ms: list[float]
    seconds: float


async def login(session: aiohttp.ClientSession, base: str, name: str) -> None:
    async with session.get(f"{base}/login") as page:
        token = CSRF_RE.search(await page.text())
        if page.status != 200 or token is None:
            raise SystemExit(f"GET /login answered {page.status} without a CSRF token")
    form = {"login": name, "password": PASSWORD, "next": "", "csrf_token": token.group(1)}
    async with session.post(f"{base}/login", data=form, allow_redirects=False) as reply:
        if reply.status not in (302, 303):
            raise SystemExit(f"login of {name} answered {reply.status}: {await reply.text()}")


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    start = time.perf_counter()
    async with session.get(url, allow_redirects=False) as reply:
        body = await reply.text()
        took = (time.perf_counter() - start) * 1000
        if reply.status != 200:
            raise SystemExit(f"GET {url} answered {reply.status}:\n{body[:2000]}")
    return took, body


async def measure(
    session: aiohttp.ClientSession, label: str, url: str, args: argparse.Namespace
) -> list[Result]:
    for _ in range(10):  # warm-up: templates compiled, caches and connections ready
        await fetch(session, url)
    ms: list[float] = []
    start = time.perf_counter()
    for _ in range(args.sequential):
        ms.append((await fetch(session, url))[0])
    results = [Result(label, "sequential", args.sequential, ms, time.perf_counter() - start)]
    todo = iter(range(args.total))
    conc: list[float] = []

    async def client() -> None:
        for _ in todo:
            conc.append((await fetch(session, url))[0])

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.concurrency)))
    results.append(
        Result(
            label, f"concurrency {args.concurrency}", args.total, conc, time.perf_counter() - start
        )
    )
    return results


async def run(gapo: str, bare: str, args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    for reader, want_media in (("reader_media", True), ("reader_plain", False)):
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as session:
            await login(session, gapo, reader)
            _, body = await fetch(session, f"{gapo}/home")
            grids, items = body.count("media-grid media-count"), body.count("/media/")
            print(
                f"/home for {reader}: {len(body)} bytes, {grids} media grids, {items} /media/ URLs"
            )
            if want_media and (grids == 0 or items == 0):
                raise SystemExit(f"/home for {reader} has no media markup:\n{body[:3000]}")
            if not want_media and grids:
                raise SystemExit(f"/home for {reader} shows media it should not have")
            if body.count('class="post') == 0 and "<article" not in body:
                print(f"warning: /home for {reader} may show no posts")
            label = f"GET /home, {'with media' if want_media else 'no media'}"
            results += await measure(session, label, f"{gapo}/home", args)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=args.concurrency)
    ) as session:
        results += await measure(session, "bare Quart+Hypercorn GET /", f"{bare}/", args)
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| page | mode | requests | median ms | p95 ms | p99 ms | req/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.label} | {r.mode} | {r.n} | {percentile(r.ms, 0.5):.1f}"
            f" | {percentile(r.ms, 0.95):.1f} | {percentile(r.ms, 0.99):.1f}"
            f" | {r.n / r.seconds:.1f} |"
        )
    return "\n".join(lines)


def raise_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--follows", type=int, default=300)
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--total", type=int, default=600, help="requests of the concurrent run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if 2 * args.follows > args.accounts:
        parser.error("--follows must be at most half of --accounts")
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    command = " ".join([".venv/bin/python", "bench/bench_feed_media.py", *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="gapo-feed-media-") as tmp:
        data_dir = Path(tmp) / "data"
        server = Server(data_dir, Path(tmp) / "server.log", 1, ENV)
        try:
            run_migrate(data_dir, ENV)
            for name in ("reader_media", "reader_plain"):
                create_user(data_dir, name, PASSWORD, ENV)
            start = time.perf_counter()
            counts = fill(
                data_dir / "gapo.sqlite3",
                accounts=args.accounts,
                posts=args.posts,
                follows=args.follows,
                seed=args.seed,
            )
            print(
                f"filled {args.posts} posts ({counts['posts_with_media']} with media,"
                f" {counts['media']} media rows), {args.accounts} accounts, {args.follows}"
                f" follows per reader in {time.perf_counter() - start:.1f} s"
            )
            server.start(seconds=60)
            # The framework's ceiling on the same settings as `gapo serve` (harness.py).
            with BareQuart(workers=1) as bare:
                results = asyncio.run(run(server.base_url, bare.base_url, args))
        finally:
            server.stop()
            log = server.log_text()
        errors = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"server log: {len(errors)} error line(s), first: {errors[0][:200]}")
    print(f"\n`{command}` ({os.cpu_count()} CPUs, client on the same machine)\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: servers stopped, temporary data dir removed")
        sys.exit(130)
