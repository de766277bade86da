"""Fan-out of one post to its followers, against a real `gapo serve`: deliveries per second.

    .venv/bin/python bench/bench_fanout.py [--rounds 2] [--workers 1] [--env GAPO_X=1]

Two scenarios of issue 15, both in one run on one server:

- personal: 2,000 followers on 10 hosts, each with its own inbox (no shared inbox):
  2,000 signed deliveries, 200 per host;
- shared: 10,000 followers on 1,000 hosts that all have a shared inbox: exactly 1,000
  deliveries, one per host.

The "hosts" are ports of one loopback sink (bench/fanout_sink.py) that runs in a process
of its own, answers 202, counts deliveries per inbox and verifies the signature of one in
50 with the author's public key. `gapo serve` runs with GAPO_ALLOW_PRIVATE_ADDRESSES=1
(what the tests use to let the address guard reach loopback). The followers are inserted
straight into SQLite as remote accounts with accepted follows (as tests/test_fanout.py
does); the post is made through the real write path: log in and POST /posts over HTTP.
The clock runs from that POST until the sink has received every delivery.

The reference in the same run is the sink's own ceiling: a bare aiohttp client in this
process posting the same body, unsigned, with the same concurrency (2 connections per
host for the personal case, 100 POSTs in flight for the shared one). The ratio is
gapo / ceiling. Also printed: the server's CPU time per delivery (its event loop's, and its
other threads': signing, SQLite), duplicates (must be 0) and signatures verified/bad.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import GapoServer, create_user, group_processes

ROOT = Path(__file__).resolve().parents[1]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long bench password 15"  # noqa: S105 (a throw-away bench account)
ID_BASE = 10**9  # far below the server's time-based ids: no collision


@dataclass(frozen=True)
class Scenario:
    name: str
    user: str
    hosts: int
    per_host: int
    shared: bool
    # The ceiling client: connections per host, POSTs in flight in all.
    connections_per_host: int
    in_flight: int

    @property
    def expected(self) -> int:
        return self.hosts if self.shared else self.hosts * self.per_host


PERSONAL = Scenario("2,000 personal inboxes on 10 hosts", "alice", 10, 200, False, 2, 20)
SHARED = Scenario("10,000 followers on 1,000 hosts (shared)", "bob", 1000, 10, True, 1, 100)


class Sink:
    """bench/fanout_sink.py in its own process."""

    def __init__(self, hosts: int, keys_db: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "fanout_sink.py"),
                "--hosts",
                str(hosts),
                "--keys-db",
                str(keys_db),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            raise SystemExit("the sink did not start")
        self.control = int(line[1])
        self.ports = [int(p) for p in line[2].split(",")]

    def count(self, reset: bool = False) -> dict[str, object]:
        path = "/reset" if reset else "/count"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}{path}", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def wait_for(self, expected: int, seconds: float) -> dict[str, object]:
        deadline = time.monotonic() + seconds
        while True:
            got = self.count()
            if int(got["total"]) >= expected or time.monotonic() > deadline:  # type: ignore[call-overload]
                return got
            time.sleep(0.02)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def add_followers(
    db: Path, followee: str, scenario: Scenario, ports: list[int], start: int
) -> None:
    """Remote accounts with accepted follows, straight into SQLite (one transaction)."""
    conn = sqlite3.connect(db, timeout=30)
    ts = int(time.time())
    with conn:
        (followee_id,) = conn.execute(
            "SELECT id FROM accounts WHERE local = 1 AND username = ?", (followee,)
        ).fetchone()
        n = start
        for port in ports:
            host = f"127.0.0.1:{port}"
            shared = f"http://{host}/inbox" if scenario.shared else None
            for u in range(scenario.per_host):
                n += 1
                actor = f"http://{host}/users/f{u}"
                conn.execute(
                    "INSERT INTO accounts (id, local, username, username_key, domain, created_at,"
                    " updated_at, ap_id, ap_inbox, ap_shared_inbox)"
                    " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (n, f"f{u}", f"f{u}", host, ts, ts, actor, f"{actor}/inbox", shared),
                )
                conn.execute(
                    "INSERT INTO follows (id, follower_id, followee_id, state, created_at,"
                    " accepted_at) VALUES (?, ?, ?, 'accepted', ?, ?)",
                    (n + 5 * 10**8, n, followee_id, ts, ts),
                )
    conn.close()


async def post_as(base_url: str, user: str, text: str) -> float:
    """Log in and post through the web form; returns the time the POST was sent."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base_url}/login") as page:
            token = CSRF_RE.search(await page.text())
        assert token, "no CSRF token on /login"
        form = {"login": user, "password": PASSWORD, "csrf_token": token.group(1)}
        async with http.post(f"{base_url}/login", data=form, allow_redirects=False) as r:
            assert r.status in (302, 303), f"login answered {r.status}"
        async with http.get(f"{base_url}/") as page:
            token = CSRF_RE.search(await page.text())
        assert token, "no CSRF token on the home page"
        form = {"text": text, "visibility": "public", "csrf_token": token.group(1)}
        sent = time.time()
        async with http.post(f"{base_url}/posts", data=form, allow_redirects=False) as r:
            assert r.status in (302, 303), f"POST /posts answered {r.status}"
        return sent


async def ceiling(scenario: Scenario, ports: list[int], body: bytes) -> float:
    """Seconds for a bare aiohttp client to POST every delivery of `scenario`, unsigned."""
    connector = aiohttp.TCPConnector(limit=scenario.in_flight, limit_per_host=0)
    headers = {"Content-Type": "application/activity+json"}
    async with aiohttp.ClientSession(connector=connector) as http:

        async def send(url: str) -> None:
            async with http.post(url, data=body, headers=headers) as r:
                await r.read()

        async def one_connection(urls: list[str]) -> None:
            for url in urls:
                await send(url)

        start = time.perf_counter()
        if scenario.shared:
            gate = asyncio.Semaphore(scenario.in_flight)

            async def gated(url: str) -> None:
                async with gate:
                    await send(url)

            await asyncio.gather(*(gated(f"http://127.0.0.1:{p}/inbox") for p in ports))
        else:
            lanes = []
            for port in ports:
                urls = [
                    f"http://127.0.0.1:{port}/users/f{u}/inbox" for u in range(scenario.per_host)
                ]
                c = scenario.connections_per_host
                lanes += [one_connection(urls[i::c]) for i in range(c)]
            await asyncio.gather(*lanes)
        return time.perf_counter() - start


def thread_cpu(pgid: int) -> dict[str, float]:
    """The server's CPU seconds: its processes' main threads (the event loops) and all the
    other threads (signing, SQLite, …), from Linux /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"loop": 0.0, "threads": 0.0}
    for pid in group_processes(pgid):
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            out["loop" if task.name == str(pid) else "threads"] += seconds
    return out


def jobs_summary(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db, timeout=30)
    rows = conn.execute(
        "SELECT state, COUNT(*) FROM jobs WHERE kind = 'deliver' GROUP BY state"
    ).fetchall()
    conn.close()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="posts per scenario")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], help="GAPO_NAME=VALUE")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per round")
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="record the server with py-spy (.svg, or .txt for collapsed stacks)",
    )
    parser.add_argument("--only", choices=["personal", "shared"], help="run one scenario")
    args = parser.parse_args()
    env = ["GAPO_ALLOW_PRIVATE_ADDRESSES=1", *args.env]
    scenarios = [PERSONAL, SHARED]
    run = [
        s
        for s in scenarios
        if args.only is None or s.user == {"personal": "alice"}.get(args.only, "bob")
    ]
    rows: list[str] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gapo-fanout-") as tmp:
        data_dir = Path(tmp) / "data"
        with GapoServer(data_dir, workers=args.workers, env=env) as gapo:
            db = data_dir / "gapo.db"
            if not db.exists():
                # The database itself, not its -wal, -shm or writer lock beside it.
                candidates = list(data_dir.glob("*.db")) + list(data_dir.glob("*.sqlite3"))
                db = candidates[0]
            for s in scenarios:
                create_user(data_dir, s.user, PASSWORD, env)
            sink = Sink(sum(s.hosts for s in scenarios), db)
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses"]
                    + ["-o", str(args.py_spy), "--pid", str(gapo.pgid), "--rate", "250"]
                    + (["--format", "raw"] if args.py_spy.suffix == ".txt" else []),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            try:
                offset = 0
                for n, s in enumerate(scenarios):
                    ports = sink.ports[offset : offset + s.hosts]
                    offset += s.hosts
                    add_followers(db, s.user, s, ports, ID_BASE + n * 10**7)
                for s in run:
                    ports = sink.ports[: s.hosts] if s is PERSONAL else sink.ports[PERSONAL.hosts :]
                    for r in range(args.rounds):
                        sink.count(reset=True)
                        cpu0 = gapo.cpu_seconds()
                        threads0 = thread_cpu(gapo.pgid)
                        sent = asyncio.run(post_as(gapo.base_url, s.user, f"round {r} of {s.name}"))
                        got = sink.wait_for(s.expected, args.timeout)
                        cpu = gapo.cpu_seconds() - cpu0
                        threads = thread_cpu(gapo.pgid)
                        loop_ms = (threads["loop"] - threads0["loop"]) * 1000 / s.expected
                        other_ms = (threads["threads"] - threads0["threads"]) * 1000 / s.expected
                        total = int(got["total"])  # type: ignore[call-overload]
                        seconds = float(got["last"]) - sent  # type: ignore[arg-type]
                        first = float(got["first"]) - sent  # type: ignore[arg-type]
                        print(
                            f"{s.name} round {r + 1}: first delivery {first:.2f} s after the POST"
                        )
                        if total < s.expected:
                            problems.append(f"{s.name} round {r}: {total} of {s.expected}")
                        if got["duplicates"] or got["bad"]:
                            problems.append(f"{s.name} round {r}: {got}")
                        # The same body size as the real activity, for the ceiling.
                        body = b'{"x":"' + b"y" * 1100 + b'"}'
                        sink.count(reset=True)
                        bare_cpu0 = time.process_time()
                        bare = asyncio.run(ceiling(s, ports, body))
                        bare_cpu = (time.process_time() - bare_cpu0) / s.expected
                        rate = total / seconds if seconds > 0 else 0.0
                        bare_rate = s.expected / bare
                        rows.append(
                            f"| {s.name} | {r + 1} | {total} | {seconds:.2f} s | {rate:,.0f}/s"
                            f" | {bare:.2f} s = {bare_rate:,.0f}/s | {rate / bare_rate:.2f}"
                            f" | {cpu * 1000 / max(total, 1):.2f} ms = {loop_ms:.2f} loop"
                            f" + {other_ms:.2f} threads ({bare_cpu * 1000:.2f})"
                            f" | {got['duplicates']} | {got['verified']}/{len(got['bad'])} |"  # type: ignore[arg-type]
                        )
                        time.sleep(0.3)  # the last outcomes are written
            finally:
                sink.close()
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes its SVG and exits
                    spy.wait(30)
            states = jobs_summary(db)
            problems += gapo.log_problems()[:5]
    print(
        "| scenario | round | delivered | time (post → last) | deliveries/s"
        " | bare client, same concurrency | ratio | server CPU per delivery (bare client per POST)"
        " | duplicates | signatures verified/bad |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print(f"deliver jobs by state at the end: {states}")
    for problem in problems:
        print("PROBLEM:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
