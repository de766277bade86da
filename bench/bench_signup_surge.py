"""Sign-up surge against a real `gapo serve`: what is accepted, what is shed, what breaks.

    .venv/bin/python bench/bench_signup_surge.py --concurrency 200 --total 600 --workers 1 2

Gapo's founding story is a national social app overwhelmed by sign-ups hours after launch.
This benchmark replays that on loopback: it makes a temporary data dir, runs `gapo migrate`,
starts `gapo serve` (production argon2 and SQLite settings, registrations open, the per-IP
sign-up limit lifted with GAPO_SIGNUP_RATE_PER_HOUR since every request comes from
127.0.0.1), then keeps `--concurrency` browsers busy until `--total` sign-ups were tried.
Each one is what a browser does: GET /signup (CSRF token and state cookie), then POST
/signup with a unique username and email and a strong password.

It prints, for the POSTs: accepted (302 to the new profile), shed (503 with Retry-After),
anything else by status code (a 5xx other than 503 is a bug), accepted/s, and latency
p50/p95/max of accepted and shed answers. While the surge runs it probes GET / and
GET /health on their own connections (a slow /health means a stalled event loop, a slow /
alone means waiting for a database reader) and probes GET / again afterwards. Once the
server has stopped it opens the SQLite file read-only and checks that the rows are exactly
the accepted sign-ups: each user has its account, key pair and session, and nothing
half-written is left; before stopping it, it fetches the actor documents of some accepted
users, whose key pairs are made on that first use (instance/outbound/actor_keys.py), and
checks each has a publicKey. Exit status 1 when any of those checks fails.

In the same run, for each worker count, the bare Quart app of bench/harness.py (the
framework's ceiling, same Hypercorn settings and worker count) gets the same load for as
long as the surge lasted: as many clients doing GET / then POST /post of a form of the same
size, probed the same way. The summary prints Gapo's page latency during the surge next to
the bare app's, the hashing bound (CPUs / the time of one argon2id hash, timed here before
the run, times the surge's duration), the share of it admitted, and memory per process.

The client runs on the same machine as the server and takes CPU from it; its CPU time is
printed next to the server's. Extra settings for the server: `--env GAPO_NAME=VALUE`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, SimpleNamespace

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
STATE_COOKIE = "gapo_state"  # Quart's signed session cookie: it carries the CSRF token
ERROR_LINE_RE = re.compile(r"Traceback|\b(ERROR|CRITICAL)\b|database busy")


# --- the server process -------------------------------------------------------------------


def gapo_command() -> list[str]:
    script = Path(sys.executable).parent / "gapo"
    return [str(script)] if script.exists() else [sys.executable, "-m", "instance"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, base_url: str, extra: Sequence[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAPO_")}
    env.update(
        GAPO_DATA_DIR=str(data_dir),
        GAPO_BASE_URL=base_url,
        GAPO_REGISTRATIONS="open",
        # Every request comes from 127.0.0.1: lift the per-IP sign-up limit.
        GAPO_SIGNUP_RATE_PER_HOUR="100000000",
        PYTHONPATH=str(ROOT),
    )
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("GAPO_"):
            raise SystemExit(f"--env wants GAPO_NAME=VALUE, not {item!r}")
        env[name] = value
    return env


def group_processes(pgid: int) -> list[int]:
    """Pids in the server's process group (it runs in a session of its own). Linux only."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in the group (best effort)."""
    ticks = 0
    for pid in group_processes(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def group_peak_rss_mib(pgid: int) -> float:
    """Sum of each process's peak resident memory (VmHWM), in MiB (best effort)."""
    total_kib = 0
    for pid in group_processes(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total_kib / 1024


class Server:
    """`gapo serve` in its own process group, so that stopping it reaches its workers too."""

    def __init__(self, data_dir: Path, log_path: Path, workers: int, extra: Sequence[str]):
        self.data_dir = data_dir
        self.log_path = log_path
        self.workers = workers
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.base_url = ""

    def start(self, seconds: float) -> None:
        for _attempt in range(3):
            self.port = free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            command = [
                *gapo_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ]
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    command,
                    env=server_env(self.data_dir, self.base_url, self.extra),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready(seconds):
                return
            self.stop()
            if "address already in use" not in self.log_text().lower():
                break
        raise SystemExit(f"gapo serve did not start; its log:\n{self.log_text()[-3000:]}")

    def _wait_ready(self, seconds: float) -> bool:
        """Every worker answers /health (it answers only after its startup has finished)."""
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                url = f"{self.base_url}/health"
                with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 (loopback)
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            return False
        # With several workers the first answer comes from whichever started first; give the
        # others their startup (instance actor, key pools) before the surge begins.
        time.sleep(1.0 if self.workers > 1 else 0)
        return self.proc.poll() is None

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM to the group (Gapo finishes requests in flight for up to 10 s), then KILL."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Whatever is left in the group (a worker the parent lost) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def run_migrate(data_dir: Path, extra: Sequence[str]) -> None:
    result = subprocess.run(
        [*gapo_command(), "migrate"],
        env=server_env(data_dir, "http://127.0.0.1:8000", extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"gapo migrate failed ({result.returncode}):\n{result.stderr}")


# --- the surge ----------------------------------------------------------------------------


def tcp_counters() -> Counter[str]:
    """Listen-queue overflows and SYN retransmits of this network namespace (Linux only).

    A connection that finds the server's accept queue full is dropped and retried by the
    client's kernel 1 s later (then 3 s, ...): that shows as a request slow to start.
    """
    wanted = ("ListenOverflows", "ListenDrops", "TCPSynRetrans")
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return Counter()
    for names, values in itertools.pairwise(lines):
        if names.startswith("TcpExt:") and values.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return Counter({k: int(row[k]) for k in wanted if k in row})
    return Counter()


def connect_timer(durations: list[float]) -> aiohttp.TraceConfig:
    """Records how long each new TCP connection of a session took to set up."""

    async def started(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        _params: aiohttp.TraceConnectionCreateStartParams,
    ) -> None:
        context.connect_started = time.perf_counter()

    async def ended(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        _params: aiohttp.TraceConnectionCreateEndParams,
    ) -> None:
        durations.append(time.perf_counter() - context.connect_started)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(started)
    trace.on_connection_create_end.append(ended)
    return trace


@dataclass
class Attempt:
    username: str
    # accepted | shed | shed-no-retry-after | http-N | get-N | error-X | cancelled | not-sent
    outcome: str = "not-sent"
    status: int | None = None
    get_seconds: float | None = None
    post_seconds: float | None = None
    retry_after: str | None = None


@dataclass
class Probe:
    path: str
    phase: str  # before | during | after
    status: int | None  # None: no answer (timeout or connection error)
    seconds: float


@dataclass
class SurgeResult:
    attempts: list[Attempt]
    probes: list[Probe] = field(default_factory=list)
    signup_connects: list[float] = field(default_factory=list)
    probe_connects: list[float] = field(default_factory=list)
    tcp: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    timed_out: bool = False
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None


async def one_signup(
    session: aiohttp.ClientSession, base_url: str, attempt: Attempt, password: str
) -> None:
    start = time.perf_counter()
    async with session.get(f"{base_url}/signup") as page:
        body = await page.text()
        attempt.get_seconds = time.perf_counter() - start
        if page.status != 200:
            attempt.outcome, attempt.status = f"get-{page.status}", page.status
            return
        token = CSRF_RE.search(body)
        cookie = page.cookies.get(STATE_COOKIE)
        if token is None or cookie is None:
            attempt.outcome = "get-no-csrf"
            return
    form = {
        "username": attempt.username,
        "email": f"{attempt.username}@example.org",
        "password": password,
        "csrf_token": token.group(1),
    }
    start = time.perf_counter()
    async with session.post(
        f"{base_url}/signup",
        data=form,
        headers={"Cookie": f"{STATE_COOKIE}={cookie.value}"},
        allow_redirects=False,
    ) as reply:
        await reply.read()
        attempt.post_seconds = time.perf_counter() - start
        attempt.status = reply.status
        attempt.retry_after = reply.headers.get("Retry-After")
        location = reply.headers.get("Location", "")
        # A new person lands on the home feed (older versions: their profile), signed in.
        if reply.status in (302, 303) and location.endswith(("/home", f"/@{attempt.username}")):
            attempt.outcome = "accepted"
        elif reply.status == 503:
            attempt.outcome = "shed" if attempt.retry_after else "shed-no-retry-after"
        else:
            attempt.outcome = f"http-{reply.status}"


async def browser(
    session: aiohttp.ClientSession,
    base_url: str,
    queue: Iterator[Attempt],
    request_timeout: float,
) -> None:
    """One of `--concurrency` clients: sign-ups one after another until none are left."""
    for attempt in queue:
        attempt.outcome = "cancelled"  # until it has an answer (the deadline may come first)
        password = f"{secrets.token_hex(10)} launch day surge"
        try:
            async with asyncio.timeout(request_timeout):
                await one_signup(session, base_url, attempt, password)
        except TimeoutError:
            attempt.outcome = "error-timeout"
        except aiohttp.ClientError as exc:
            attempt.outcome = f"error-{type(exc).__name__}"


async def probe(
    session: aiohttp.ClientSession, base_url: str, path: str, phase: str, seconds: float
) -> Probe:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(seconds), session.get(f"{base_url}{path}") as reply:
            await reply.read()
            return Probe(path, phase, reply.status, time.perf_counter() - start)
    except (TimeoutError, aiohttp.ClientError):
        return Probe(path, phase, None, time.perf_counter() - start)


async def prober(
    session: aiohttp.ClientSession,
    base_url: str,
    probes: list[Probe],
    interval: float,
    seconds: float,
    stop: asyncio.Event,
) -> None:
    """GET / and GET /health side by side every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        probes.extend(
            await asyncio.gather(
                probe(session, base_url, "/", "during", seconds),
                probe(session, base_url, "/health", "during", seconds),
            )
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def surge(server: Server, args: argparse.Namespace) -> SurgeResult:
    run_id = secrets.token_hex(3)
    # a-z, 0-9 and _, at most 30 characters: "s" + 6 hex + "_" + index.
    attempts = [Attempt(f"s{run_id}_{i}") for i in range(args.total)]
    result = SurgeResult(attempts)
    jar = aiohttp.DummyCookieJar()  # each sign-up carries its own state cookie by hand
    signup_connector = aiohttp.TCPConnector(limit=args.concurrency)
    probe_connector = aiohttp.TCPConnector(limit=4)  # probes never queue behind sign-ups
    async with (
        aiohttp.ClientSession(
            connector=signup_connector,
            cookie_jar=jar,
            trace_configs=[connect_timer(result.signup_connects)],
        ) as session,
        aiohttp.ClientSession(
            connector=probe_connector, trace_configs=[connect_timer(result.probe_connects)]
        ) as probe_session,
    ):
        # Side by side, as during the surge: the probes' two connections are open beforehand.
        for _ in range(args.probes_after):
            result.probes.extend(
                await asyncio.gather(
                    probe(probe_session, server.base_url, "/", "before", args.request_timeout),
                    probe(
                        probe_session, server.base_url, "/health", "before", args.request_timeout
                    ),
                )
            )
        tcp_before = tcp_counters()
        queue = iter(attempts)  # shared by every browser: each attempt is taken once
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            probing = asyncio.create_task(
                prober(
                    probe_session,
                    server.base_url,
                    result.probes,
                    args.probe_interval,
                    args.request_timeout,
                    stop,
                )
            )
            tasks.append(probing)
            cpu_client, cpu_server = time.process_time(), group_cpu_seconds(server.pgid)
            start = time.perf_counter()
            browsers = [
                asyncio.create_task(browser(session, server.base_url, queue, args.request_timeout))
                for _ in range(args.concurrency)
            ]
            tasks += browsers
            done, pending = await asyncio.wait(browsers, timeout=args.deadline)
            result.wall_seconds = time.perf_counter() - start
            tcp_after = tcp_counters()
            result.tcp = {k: tcp_after[k] - tcp_before[k] for k in tcp_after}
            result.client_cpu_seconds = time.process_time() - cpu_client
            if server.alive():
                result.server_cpu_seconds = group_cpu_seconds(server.pgid) - cpu_server
            result.timed_out = bool(pending)
            for task in done:
                task.result()  # a bug in the client itself should not pass silently
            stop.set()
            await probing
        finally:
            # On the deadline, Ctrl-C or a client bug: nothing may outlive the sessions.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(args.probes_after):
            result.probes.append(
                await probe(probe_session, server.base_url, "/", "after", args.request_timeout)
            )
    return result


# --- the database afterwards --------------------------------------------------------------


@dataclass
class DbCheck:
    users: int
    person_accounts: int
    users_without_account: int
    accounts_without_user: int
    accounts_with_several_keypairs: int
    keypairs_by_username: dict[str, int]
    users_without_session: int
    usernames: set[str]
    quick_check: str


def check_database(path: Path) -> DbCheck:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:

        def value(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        person = "a.local = 1 AND a.ap_type = 'Person'"  # the instance actor is 'Application'
        return DbCheck(
            users=value("SELECT COUNT(*) FROM users"),
            person_accounts=value(f"SELECT COUNT(*) FROM accounts a WHERE {person}"),
            users_without_account=value(
                "SELECT COUNT(*) FROM users u LEFT JOIN accounts a ON a.id = u.account_id"
                " WHERE a.id IS NULL"
            ),
            accounts_without_user=value(
                f"SELECT COUNT(*) FROM accounts a WHERE {person}"
                " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id)"
            ),
            # Keys are made on first use: none or one per account, never two.
            accounts_with_several_keypairs=value(
                f"SELECT COUNT(*) FROM accounts a WHERE {person} AND (SELECT COUNT(*) FROM"
                " keypairs k WHERE k.account_id = a.id) > 1"
            ),
            keypairs_by_username={
                row[0]: int(row[1])
                for row in conn.execute(
                    f"SELECT a.username, (SELECT COUNT(*) FROM keypairs k WHERE k.account_id ="
                    f" a.id AND k.private_pem IS NOT NULL) FROM accounts a WHERE {person}"
                )
            },
            users_without_session=value(
                "SELECT COUNT(*) FROM users u"
                " WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)"
            ),
            usernames={
                row[0]
                for row in conn.execute(
                    "SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id"
                )
            },
            quick_check=str(conn.execute("PRAGMA quick_check").fetchone()[0]),
        )
    finally:
        conn.close()


# --- the report ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency_line(label: str, seconds: Sequence[float]) -> str:
    if not seconds:
        return f"  {label:<26} n=0"
    ms = [s * 1000 for s in seconds]
    return (
        f"  {label:<26} n={len(ms):<5} p50={percentile(ms, 0.5):8.1f} ms"
        f"  p95={percentile(ms, 0.95):8.1f} ms  max={max(ms):8.1f} ms"
    )


def report(result: SurgeResult, args: argparse.Namespace) -> list[str]:
    """Prints the figures; returns the problems found (empty when all is well)."""
    problems: list[str] = []
    if result.timed_out:
        problems.append(f"the surge did not finish within --deadline {args.deadline:g} s")
    attempts = result.attempts
    outcomes = Counter(a.outcome for a in attempts)
    accepted = [a for a in attempts if a.outcome == "accepted"]
    shed = [a for a in attempts if a.outcome == "shed"]
    print(
        f"\nsurge: {len(attempts)} sign-ups, {args.concurrency} at a time, "
        f"{args.workers_now} worker(s): {result.wall_seconds:.1f} s"
        + ("  (DEADLINE HIT: the rest were cancelled)" if result.timed_out else "")
    )
    print(f"  accepted (302 to profile)  {len(accepted)}")
    print(f"  shed (503 + Retry-After)   {len(shed)}")
    others = {k: v for k, v in sorted(outcomes.items()) if k not in ("accepted", "shed")}
    for outcome, count in others.items():
        print(f"  {outcome:<26} {count}")
    if shed:
        print(f"  Retry-After values         {dict(Counter(a.retry_after for a in shed))}")
    print(f"  throughput                 {len(accepted) / result.wall_seconds:.1f} accepted/s")
    cpu_server = (
        f"{result.server_cpu_seconds:.1f} s" if result.server_cpu_seconds is not None else "?"
    )
    print(
        f"  CPU during the surge       server {cpu_server}, this client "
        f"{result.client_cpu_seconds:.1f} s ({os.cpu_count()} CPUs x {result.wall_seconds:.1f} s)"
    )
    tcp = ", ".join(f"{k} {result.tcp[k]}" for k in sorted(result.tcp)) or "not available"
    print(f"  kernel TCP counters        {tcp} (whole host, during the surge)")
    print("latency:")
    print(latency_line("TCP connect, sign-ups", result.signup_connects))
    print(latency_line("TCP connect, probes", result.probe_connects))
    print(latency_line("GET /signup", [a.get_seconds for a in attempts if a.get_seconds]))
    print(latency_line("POST accepted", [a.post_seconds or 0 for a in accepted]))
    print(latency_line("POST shed (503)", [a.post_seconds or 0 for a in shed]))
    if shed:
        slow = sum((a.post_seconds or 0) > 1 for a in shed)
        # Refusing at the first pool takes milliseconds; a slow 503 waited in a queue first.
        print(f"  {'shed after more than 1 s':<26} {slow} of {len(shed)}")
    for phase in ("before", "during", "after"):
        for path in ("/", "/health"):
            probes = [p for p in result.probes if p.phase == phase and p.path == path]
            if not probes:
                continue
            statuses = dict(Counter(p.status for p in probes))
            print(
                latency_line(f"probe GET {path} {phase}", [p.seconds for p in probes])
                + f"  statuses={statuses}"
            )
            if path == "/" and any(p.status != 200 for p in probes):
                problems.append(f"GET / {phase} the surge answered {statuses}, not always 200")

    for outcome, count in others.items():
        status = int(outcome[5:]) if outcome.startswith("http-") else None
        if status is not None and status >= 500:
            problems.append(f"{count} sign-up(s) answered {status}: a server error, not shedding")
        elif outcome == "shed-no-retry-after":
            problems.append(f"{count} sign-up(s) answered 503 without Retry-After")
        elif outcome not in ("cancelled", "not-sent"):  # the deadline is reported above
            problems.append(f"{count} sign-up(s) ended {outcome}")
    return problems


def check_rows(db: DbCheck, result: SurgeResult, keys: KeyCheck | None) -> list[str]:
    problems = []
    accepted = {a.username for a in result.attempts if a.outcome == "accepted"}
    by_name = {a.username: a.outcome for a in result.attempts}
    print("database (read-only, after the server stopped):")
    print(
        f"  users {db.users}, local Person accounts {db.person_accounts}, accepted {len(accepted)}"
    )
    print(
        f"  users without account {db.users_without_account}, accounts without user "
        f"{db.accounts_without_user}, accounts with more than one key pair "
        f"{db.accounts_with_several_keypairs}, users without session {db.users_without_session}, "
        f"quick_check {db.quick_check}"
    )
    fetched = keys.with_key if keys is not None else []
    keyless = [name for name in fetched if db.keypairs_by_username.get(name) != 1]
    print(
        f"  key pairs: {sum(v == 1 for v in db.keypairs_by_username.values())} accounts have one"
        f" (made on first use); of the {len(fetched)} whose actor was fetched, {len(keyless)}"
        " without exactly one stored"
    )
    if keyless:
        problems.append(f"{len(keyless)} fetched actor(s) without exactly one stored key pair")
    if db.users != len(accepted) or db.person_accounts != len(accepted):
        problems.append(
            f"rows mismatch: {db.users} users and {db.person_accounts} accounts"
            f" for {len(accepted)} accepted sign-ups"
        )
    for name, count in (
        ("users without an account", db.users_without_account),
        ("accounts without a user", db.accounts_without_user),
        ("accounts with more than one key pair", db.accounts_with_several_keypairs),
        ("users without a session", db.users_without_session),
    ):
        if count:
            problems.append(f"{count} {name}")
    if db.quick_check != "ok":
        problems.append(f"PRAGMA quick_check: {db.quick_check}")
    missing = accepted - db.usernames
    if missing:
        problems.append(f"{len(missing)} accepted sign-up(s) have no row, e.g. {min(missing)}")
    extra = db.usernames - accepted
    if extra:
        seen = Counter(by_name.get(name, "not sent by this run") for name in extra)
        problems.append(
            f"{len(extra)} stored user(s) were not answered as accepted; the client saw {dict(seen)}"
        )
    return problems


def server_log_problems(log: str) -> list[str]:
    lines = [line for line in log.splitlines() if ERROR_LINE_RE.search(line)]
    if not lines:
        print("server log: no errors, tracebacks or busy retries")
        return []
    print(f"server log: {len(lines)} error/traceback/busy line(s); the first ones:")
    for line in lines[:8]:
        print(f"  {line[:200]}")
    tracebacks = sum("Traceback" in line for line in lines)
    return [f"server log has {tracebacks} traceback(s)"] if tracebacks else []


# --- keys, the bare app, the summary --------------------------------------------------------

HASH_ROUNDS = 15
AP_ACCEPT = "application/activity+json"


def argon2_seconds() -> float:
    """One argon2id hash with Gapo's production parameters, on this thread (median)."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    times = []
    for _ in range(HASH_ROUNDS):
        start = time.perf_counter()
        hasher.hash("launch day surge password")
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def peak_rss_per_process(pgid: int, field: str = "VmHWM") -> list[float]:
    """Peak resident memory (VmHWM; or `field`) of each process in the group, in MiB."""
    sizes = []
    for pid in group_processes(pgid):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    sizes.append(int(line.split()[1]) / 1024)
    return sorted(sizes, reverse=True)


@dataclass
class KeyCheck:
    """Actor documents of accepted users fetched after the surge: each must show its key."""

    with_key: list[str]
    without_key: list[str]

    def report(self) -> list[str]:
        print(
            f"actor documents after the surge: {len(self.with_key)} with a publicKey,"
            f" {len(self.without_key)} without"
        )
        return [f"{len(self.without_key)} actor(s) without a publicKey"] if self.without_key else []


async def check_actor_keys(base_url: str, result: SurgeResult, samples: int) -> KeyCheck:
    names = [a.username for a in result.attempts if a.outcome == "accepted"][:samples]
    check = KeyCheck([], [])
    async with aiohttp.ClientSession() as session:
        for name in names:
            async with session.get(
                f"{base_url}/users/{name}", headers={"Accept": AP_ACCEPT}
            ) as reply:
                doc = await reply.json(content_type=None) if reply.status == 200 else {}
            pem = (doc.get("publicKey") or {}).get("publicKeyPem", "")
            (
                check.with_key if pem.startswith("-----BEGIN PUBLIC KEY") else check.without_key
            ).append(name)
    return check


@dataclass
class BareResult:
    requests: int
    seconds: float
    probes: list[Probe]
    statuses: Counter[int]
    rss_mib: list[float]


async def bare_client(
    session: aiohttp.ClientSession, base_url: str, until: float, counts: Counter[int]
) -> None:
    """What a sign-up client does, against the bare app: a page, then a form POST."""
    form = {"username": "s" * 12, "email": "s" * 12 + "@example.org", "password": "p" * 30}
    form["csrf_token"] = "t" * 32
    while time.perf_counter() < until:
        try:
            async with session.get(f"{base_url}/") as page:
                await page.read()
                counts[page.status] += 1
            async with session.post(f"{base_url}/post", data=form) as reply:
                await reply.read()
                counts[reply.status] += 1
        except aiohttp.ClientError:
            counts[0] += 1


async def bare_load(base_url: str, args: argparse.Namespace, seconds: float) -> BareResult:
    counts: Counter[int] = Counter()
    probes: list[Probe] = []
    stop = asyncio.Event()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as session,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4)) as probe_session,
    ):
        probing = asyncio.create_task(
            prober(probe_session, base_url, probes, args.probe_interval, args.request_timeout, stop)
        )
        start = time.perf_counter()
        await asyncio.gather(
            *(
                bare_client(session, base_url, start + seconds, counts)
                for _ in range(args.concurrency)
            )
        )
        elapsed = time.perf_counter() - start
        stop.set()
        await probing
    return BareResult(sum(counts.values()), elapsed, probes, counts, [])


def bare_surge(args: argparse.Namespace, workers: int, seconds: float) -> BareResult:
    """The bare Quart app (bench/harness.py) under the surge's load, for as long."""
    import harness  # it imports this module: imported late

    # harness.py's runner lacks the __main__ guard that Hypercorn's spawned workers need
    # (with --workers 2 it exits at once); guarded here until harness.py has it.
    if "__main__" not in harness.BARE_APP:
        harness.BARE_APP = harness.BARE_APP.replace(
            "sys.exit(run(config))", 'if __name__ == "__main__":\n    sys.exit(run(config))'
        )
    with harness.BareQuart(workers=workers) as bare:
        result = asyncio.run(bare_load(bare.base_url, args, max(seconds, 3.0)))
        assert bare._proc is not None
        result.rss_mib = harness.process_rss_mib(bare._proc.pid)
    pages = [p.seconds for p in result.probes if p.path == "/"]
    print(
        f"bare Quart, {workers} worker(s), {args.concurrency} clients for {result.seconds:.1f} s:"
        f" {result.requests / result.seconds:.0f} req/s, statuses {dict(result.statuses)}"
    )
    print(latency_line("probe GET / (bare)", pages))
    return result


@dataclass
class Summary:
    workers: int
    accepted: int
    shed: int
    errors: int
    seconds: float
    hash_ms: float
    bound: float  # sign-ups the CPUs could hash in the surge's time
    accepted_p95_s: float | None
    shed_p95_ms: float | None
    pages_p99_ms: float | None
    bare_pages_p99_ms: float | None
    rss_mib: list[float]

    @classmethod
    def of(
        cls,
        workers: int,
        result: SurgeResult,
        bare: BareResult | None,
        hash_seconds: float,
        rss_mib: list[float],
    ) -> Summary:
        accepted = [a.post_seconds or 0 for a in result.attempts if a.outcome == "accepted"]
        shed = [a.post_seconds or 0 for a in result.attempts if a.outcome == "shed"]
        pages = [p.seconds for p in result.probes if p.phase == "during" and p.path == "/"]
        bare_pages = [p.seconds for p in bare.probes if p.path == "/"] if bare else []
        cpus = os.cpu_count() or 1
        return cls(
            workers=workers,
            accepted=len(accepted),
            shed=len(shed),
            errors=len(result.attempts) - len(accepted) - len(shed),
            seconds=result.wall_seconds,
            hash_ms=hash_seconds * 1000,
            bound=cpus / hash_seconds * result.wall_seconds,
            accepted_p95_s=percentile(accepted, 0.95) if accepted else None,
            shed_p95_ms=percentile(shed, 0.95) * 1000 if shed else None,
            pages_p99_ms=percentile(pages, 0.99) * 1000 if pages else None,
            bare_pages_p99_ms=percentile(bare_pages, 0.99) * 1000 if bare_pages else None,
            rss_mib=rss_mib,
        )


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_summaries(summaries: Sequence[Summary], args: argparse.Namespace) -> None:
    command = " ".join([".venv/bin/python", *sys.argv])
    print(f"\n`{command}` ({os.cpu_count()} CPUs, client on the same machine)\n")
    print(
        "| workers | accepted / shed / other | surge s | argon2 ms | hashing bound"
        " | admitted of bound | accepted p95 s | shed p95 ms | GET / p99 ms (bare)"
        " | × bare | peak RSS MiB per process |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for s in summaries:
        ratio = (
            f"{s.pages_p99_ms / s.bare_pages_p99_ms:.1f}×"
            if s.pages_p99_ms and s.bare_pages_p99_ms
            else "-"
        )
        share = min(s.bound, args.total)
        print(
            f"| {s.workers} | {s.accepted} / {s.shed} / {s.errors} | {s.seconds:.1f}"
            f" | {s.hash_ms:.1f} | {s.bound:.0f} ({(os.cpu_count() or 1) / (s.hash_ms / 1000):.0f}/s)"
            f" | {100 * s.accepted / share:.0f} % | {_fmt(s.accepted_p95_s, '.2f')}"
            f" | {_fmt(s.shed_p95_ms, '.0f')} | {_fmt(s.pages_p99_ms, '.0f')}"
            f" ({_fmt(s.bare_pages_p99_ms, '.0f')}) | {ratio}"
            f" | {' / '.join(f'{m:.0f}' for m in s.rss_mib)} |"
        )


# --- main ---------------------------------------------------------------------------------


def raise_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def one_run(
    args: argparse.Namespace, workers: int, hash_seconds: float
) -> tuple[Summary, list[str]]:
    """The surge against `gapo serve --workers N`, then the bare app under the same load."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gapo-surge-") as tmp:
        data_dir = Path(tmp) / "data"
        server = Server(data_dir, Path(tmp) / "server.log", workers, args.env)
        keys: KeyCheck | None = None
        try:
            run_migrate(data_dir, args.env)
            server.start(seconds=60)
            print(
                f"\n=== gapo serve on {server.base_url}, {workers} worker(s), data in {data_dir}"
                f"{', extra settings ' + ' '.join(args.env) if args.env else ''}"
            )
            start_rss = peak_rss_per_process(server.pgid, "VmRSS")
            result = asyncio.run(surge(server, args))
            peak_rss = peak_rss_per_process(server.pgid)
            alive = server.alive()
            if alive:
                keys = asyncio.run(check_actor_keys(server.base_url, result, args.key_samples))
        finally:
            code = server.stop()
            log = server.log_text()
            if args.keep_log:
                args.keep_log.write_text(log)
        print(f"server: still running after the surge: {alive}; exit code {code}")
        print(
            "  peak RSS per process (VmHWM) "
            + " / ".join(f"{m:.0f}" for m in peak_rss)
            + f" MiB, sum {sum(peak_rss):.0f} MiB; at start (VmRSS) "
            + " / ".join(f"{m:.0f}" for m in start_rss)
            + " MiB"
        )
        if not alive:
            problems.append("the server died during the surge")
        problems += report(result, args)
        if keys is not None:
            problems += keys.report()
        problems += check_rows(check_database(data_dir / "gapo.sqlite3"), result, keys)
        problems += server_log_problems(log)
    bare = None if args.no_bare else bare_surge(args, workers, result.wall_seconds)
    return Summary.of(workers, result, bare, hash_seconds, peak_rss), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=200, help="sign-ups in flight")
    parser.add_argument("--total", type=int, default=1000, help="sign-ups tried in all")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="gapo serve --workers (one run each)"
    )
    parser.add_argument(
        "--deadline", type=float, default=600, help="seconds the whole surge may take"
    )
    parser.add_argument(
        "--request-timeout", type=float, default=120, help="seconds for one sign-up or probe"
    )
    # Every 0.1 s: a surge of a few seconds still gives dozens of page probes for the p99.
    parser.add_argument("--probe-interval", type=float, default=0.1, help="seconds")
    parser.add_argument(
        "--key-samples", type=int, default=20, help="accepted users whose actor is fetched"
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Quart ceiling")
    parser.add_argument("--probes-after", type=int, default=5, help="GET / before and after")
    parser.add_argument(
        "--env", action="append", default=[], metavar="GAPO_NAME=VALUE", help="server setting"
    )
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here")
    args = parser.parse_args()
    if args.concurrency < 1 or args.total < 1 or min(args.workers) < 1:
        parser.error("--concurrency, --total and --workers must be at least 1")

    signal.signal(signal.SIGTERM, raise_on_sigterm)
    problems: list[str] = []
    hash_seconds = argon2_seconds()
    print(
        f"argon2id (t=2, 19 MiB, p=1) in this process, before the run: "
        f"{hash_seconds * 1000:.1f} ms per hash (median of {HASH_ROUNDS})"
    )
    summaries = []
    for workers in args.workers:
        args.workers_now = workers
        summary, found = one_run(args, workers, hash_seconds)
        summaries.append(summary)
        problems += [f"{workers} worker(s): {problem}" for problem in found]
    print_summaries(summaries, args)
    if problems:
        print("PROBLEMS:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("no problems found")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server was stopped and the temporary data dir removed")
        sys.exit(130)
