"""Signed inbox POSTs at a real `gapo serve`: accepted per second, and how fast they are applied.

    .venv/bin/python bench/bench_inbox.py [--workers 1 2] [--activities 6000]
        [--concurrency 64] [--senders 50] [--bare-seconds 4]

For each worker count, in one run:

1. the framework's ceiling: a bare Quart + Hypercorn app on the same settings
   (bench/harness.py `BareQuart`) answering `POST /post` with 202, driven by the same client
   with the same request bytes;
2. a real `gapo serve` on a fresh data dir with one local user, `alice`, and `--senders`
   remote actors served by `bench/inbox_senders.py` (its own process, real RSA key). Warm-up:
   one signed Create from each sender, so the server fetches every actor and key once and
   the burst measures accepting, not key fetches; then alice follows every sender;
3. the burst: `--activities` Create(Note) activities, each signed with the project's own
   `activitypub/` code (draft-cavage, as Mastodon signs) before the clock starts, POSTed to
   the shared inbox over `--concurrency` keep-alive connections by a small asyncio HTTP/1.1
   client (cheaper per request than aiohttp: client and server share the two cores);
4. the drain: `inbox_activities.processed_at` counted every 0.25 s (a read-only SQLite
   connection), during the burst and after it until every accepted activity is applied.

Printed: accepted/s, p50/p99, answers by status, RSS per process, the ratio to the ceiling,
then the drain rates (during, after) and what the activities' results say (a Create of a
followed actor's note is "stored post …": it was really applied).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import (
    BareQuart,
    GapoServer,
    Row,
    create_user,
    gapo_command,
    group_cpu_seconds,
    percentile,
    print_table,
    server_env,
)

from activitypub.signatures import sign_cavage

AP = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SERVER_ENV = ["GAPO_ALLOW_PRIVATE_ADDRESSES=true"]


# --- the senders ------------------------------------------------------------------------


def make_key(folder: Path) -> tuple[str, Path]:
    """A fresh RSA-2048 key: (private PEM, path of the public PEM file)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = folder / "senders.pub"
    path.write_bytes(public)
    return private, path


class Senders:
    """bench/inbox_senders.py in a process of its own."""

    def __init__(self, public_pem: Path) -> None:
        self.public_pem = public_pem
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> Senders:
        script = Path(__file__).resolve().parent / "inbox_senders.py"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--public-pem", str(self.public_pem)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            raise SystemExit("the senders did not start")
        self.base_url = f"http://127.0.0.1:{line[1]}"
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def actor(self, index: int) -> str:
        return f"{self.base_url}/users/sender{index}"


def create_note(actor: str, serial: int, alice: str) -> dict[str, object]:
    note = f"{actor}/statuses/{serial}"
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note}/activity",
        "type": "Create",
        "actor": actor,
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers", alice],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": actor,
            "content": f"<p>Hello from the inbox benchmark, note {serial}.</p>",
            "published": published,
            "to": [PUBLIC],
            "cc": [f"{actor}/followers", alice],
        },
    }


def signed_request(
    base_url: str, path: str, activity: dict[str, object], actor: str, private_pem: str
) -> bytes:
    """The whole HTTP/1.1 request, headers signed as `actor` (draft-cavage with a digest)."""
    body = json.dumps(activity, separators=(",", ":")).encode()
    host = base_url.removeprefix("http://")
    headers = sign_cavage(
        "POST",
        base_url + path,
        {"Host": host, "Content-Type": AP},
        body,
        key_id=f"{actor}#main-key",
        private_key_pem=private_pem,
    )
    lines = [f"POST {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- the client -------------------------------------------------------------------------


@dataclass
class Burst:
    """What one burst measured."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    started: float = 0.0
    ended: float = 0.0

    def accepted(self) -> int:
        return self.statuses.get("202", 0)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep the connection) of one HTTP/1.1 answer, its body read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, keep = 0, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


async def _connection(
    host: str, port: int, requests: Iterator[bytes], burst: Burst, limit: float
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    for request in requests:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(request)
                status, keep = await _read_answer(reader)
        except (OSError, TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            burst.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        burst.latencies.append(time.perf_counter() - started)
        burst.statuses[str(status)] += 1
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def drive(
    base_url: str, requests: Sequence[bytes], concurrency: int, limit: float = 10.0
) -> Burst:
    """POST every request once over `concurrency` keep-alive connections."""
    host, port = base_url.removeprefix("http://").split(":")
    burst = Burst()
    shared = iter(requests)
    burst.started = time.monotonic()
    await asyncio.gather(
        *(_connection(host, int(port), shared, burst, limit) for _ in range(concurrency))
    )
    burst.ended = time.monotonic()
    burst.seconds = burst.ended - burst.started
    return burst


def timed_bare(base_url: str, request: bytes, concurrency: int, seconds: float) -> Burst:
    """The same client on the bare app for about `seconds`: the same bytes, `POST /post`."""
    bare_request = request.replace(b"POST /inbox ", b"POST /post ", 1)
    # Calibrate the count with a short run, then run for about `seconds`.
    probe = asyncio.run(drive(base_url, [bare_request] * 500, concurrency))
    count = max(1000, int(500 / max(probe.seconds, 1e-3) * seconds))
    return asyncio.run(drive(base_url, [bare_request] * count, concurrency))


# --- the drain --------------------------------------------------------------------------


class DrainWatch:
    """Counts applied activities every `every` seconds on a read-only connection."""

    def __init__(self, db_path: Path, every: float = 0.25) -> None:
        self.db_path = db_path
        self.every = every
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, received, processed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> tuple[int, int]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            received, processed = conn.execute(
                "SELECT COUNT(*), COUNT(processed_at) FROM inbox_activities"
            ).fetchone()
        finally:
            conn.close()
        return int(received), int(processed)

    def _run(self) -> None:
        while not self._stop.is_set():
            received, processed = self.count()
            self.samples.append((time.monotonic(), received, processed))
            self._stop.wait(self.every)

    def __enter__(self) -> DrainWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def processed_at(self, moment: float) -> int:
        """Applied activities at the last sample taken no later than `moment`."""
        before = [s for s in self.samples if s[0] <= moment]
        return before[-1][2] if before else 0


def wait_applied(watch: DrainWatch, total: int, limit: float) -> float:
    """Seconds until `total` activities are applied (or `limit` passes)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if watch.count()[1] >= total:
            return time.monotonic()
        time.sleep(0.1)
    return time.monotonic()


# --- one worker count -------------------------------------------------------------------


def local_id(db_path: Path, username: str) -> int:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        row = conn.execute(
            "SELECT id FROM accounts WHERE local = 1 AND username = ?", (username,)
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


def follow_all(db_path: Path, follower: int, actors: Sequence[str]) -> int:
    """alice follows every sender that the warm-up stored (accepted, as after an Accept)."""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        ids = [
            int(r[0])
            for r in conn.execute(
                f"SELECT id FROM accounts WHERE ap_id IN ({','.join('?' * len(actors))})",
                list(actors),
            )
        ]
        stamp = int(time.time())
        with conn:
            for n, followee in enumerate(ids):
                conn.execute(
                    "INSERT OR IGNORE INTO follows (id, follower_id, followee_id, state, ap_id,"
                    " created_at, accepted_at) VALUES (?, ?, ?, 'accepted', ?, ?, ?)",
                    (
                        (1 << 60) + n,
                        follower,
                        followee,
                        f"http://bench/follows/{n}",
                        stamp,
                        stamp,
                    ),
                )
    finally:
        conn.close()
    return len(ids)


def results_summary(db_path: Path) -> Counter[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT result FROM inbox_activities").fetchall()
    finally:
        conn.close()
    return Counter((r[0] or "not applied").split(" ", 2)[0] + " …" for r in rows)


class JobWorkers:
    """`count` `gapo worker` processes on the server's data folder, stopped on exit: the
    drain on cores of its own, as `gapo serve --no-jobs` + `gapo worker` deploy it."""

    def __init__(self, data_dir: Path, base_url: str, count: int, env: Sequence[str]) -> None:
        self.data_dir = data_dir
        self.base_url = base_url
        self.count = count
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> JobWorkers:
        environ = server_env(self.data_dir, self.base_url, self.env)
        for n in range(self.count):
            log = (self.data_dir.parent / f"worker-{n}.log").open("wb")
            self.procs.append(
                subprocess.Popen([*gapo_command(), "worker"], env=environ, stdout=log, stderr=log)
            )
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def measure(workers: int, root: Path, args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    private_pem, public_path = make_key(root)
    data_dir = root / f"data-{workers}"
    notes: list[str] = []
    with Senders(public_path) as senders:
        actors = [senders.actor(i) for i in range(args.senders)]
        with BareQuart(workers=workers) as bare:
            sample = signed_request(
                bare.base_url, "/inbox", create_note(actors[0], 0, "x"), actors[0], private_pem
            )
            bare_pgid = bare._proc.pid  # type: ignore[union-attr]  # its own session
            bare_cpu = group_cpu_seconds(bare_pgid)
            ceiling = timed_bare(bare.base_url, sample, args.concurrency, args.bare_seconds)
            bare_cpu = group_cpu_seconds(bare_pgid) - bare_cpu
            bare_rss = bare.rss_mib()
        env = [*SERVER_ENV, *args.env]
        if args.job_workers:
            env.append("GAPO_RUN_JOBS=false")  # the drain runs in `gapo worker` processes
        with (
            GapoServer(data_dir, workers=workers, env=env) as gapo,
            JobWorkers(data_dir, gapo.base_url, args.job_workers, [*SERVER_ENV, *args.env]),
        ):
            db_path = data_dir / "gapo.sqlite3"
            base = gapo.base_url
            alice_url = f"{base}/users/alice"
            # The user is made with the server up (the CLI writes through the same file).
            create_user(data_dir, "alice", "correct horse battery staple 42", SERVER_ENV)
            alice = local_id(db_path, "alice")
            warm = [
                signed_request(base, "/inbox", create_note(a, 0, alice_url), a, private_pem)
                for a in actors
            ]
            warmed = asyncio.run(drive(base, warm, min(8, len(warm)), limit=30))
            if warmed.accepted() != len(actors):
                raise SystemExit(f"warm-up: {dict(warmed.statuses)}, {warmed.errors} errors")
            followed = follow_all(db_path, alice, actors)
            wait_applied(DrainWatch(db_path), len(actors), min(60, args.drain_limit))
            requests = [
                signed_request(
                    base,
                    "/inbox",
                    create_note(actors[n % len(actors)], n + 1, alice_url),
                    actors[n % len(actors)],
                    private_pem,
                )
                for n in range(args.activities)
            ]
            cpu_before = gapo.cpu_seconds()
            with DrainWatch(db_path) as watch:
                time.sleep(0.3)
                burst = asyncio.run(drive(base, requests, args.concurrency))
                rss = gapo.rss_mib()
                cpu_burst = gapo.cpu_seconds() - cpu_before
                total = len(actors) + burst.accepted()
                done_at = wait_applied(watch, total, args.drain_limit)
            during = watch.processed_at(burst.ended) - watch.processed_at(burst.started)
            at_end = watch.processed_at(burst.ended)
            final = watch.count()[1]
            after_seconds = max(done_at - burst.ended, 1e-6)
            results = results_summary(db_path)
            problems = gapo.log_problems()
        lat = sorted(burst.latencies)
        rows = [
            Row(
                "trivial POST",
                "bare",
                workers,
                args.concurrency,
                ceiling.accepted() / ceiling.seconds,
                percentile(sorted(ceiling.latencies), 0.5) * 1e3,
                percentile(sorted(ceiling.latencies), 0.99) * 1e3,
                dict(sorted(ceiling.statuses.items())),
                ceiling.errors,
                bare_rss,
            ),
            Row(
                "signed inbox POST (Create Note)",
                "gapo",
                workers,
                args.concurrency,
                burst.accepted() / burst.seconds,
                percentile(lat, 0.5) * 1e3,
                percentile(lat, 0.99) * 1e3,
                dict(sorted(burst.statuses.items())),
                burst.errors,
                rss,
                ceiling_rps=ceiling.accepted() / ceiling.seconds,
            ),
        ]
        notes.append(
            f"- {workers} worker(s): {followed} senders followed; burst of {len(requests)} in"
            f" {burst.seconds:.1f} s; applied during the burst {during} ({during / burst.seconds:,.0f}/s);"
            f" after it {final - at_end} more in {after_seconds:.1f} s"
            f" ({(final - at_end) / after_seconds:,.0f}/s); {final} of {total} applied;"
            f" server CPU during the burst {cpu_burst * 1e3 / max(1, burst.accepted()):.2f} ms"
            f" per accepted activity (the bare app: {bare_cpu * 1e3 / max(1, ceiling.accepted()):.2f}"
            f" ms per trivial POST)"
        )
        notes.append(f"  results: {dict(results.most_common(6))}")
        if problems:
            notes.append(f"  server log problems: {problems[:5]}")
    return rows, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--activities", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--bare-seconds", type=float, default=4)
    parser.add_argument(
        "--job-workers",
        type=int,
        default=0,
        help="apply the inbox in this many `gapo worker` processes (the server runs no jobs)",
    )
    parser.add_argument("--drain-limit", type=float, default=180, help="seconds to wait")
    parser.add_argument(
        "--env", action="append", default=[], help="GAPO_NAME=VALUE for the server (repeat)"
    )
    args = parser.parse_args()
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gapo-bench-inbox-") as tmp:
        for workers in args.workers:
            started = time.monotonic()
            measured, lines = measure(workers, Path(tmp), args)
            rows += measured
            notes += lines
            print(f"{workers} worker(s) measured in {time.monotonic() - started:.0f} s")
    load = os.getloadavg()
    print_table(rows)
    print("\nDrain (inbox_activities applied; counted every 0.25 s):")
    print("\n".join(notes))
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
