"""The sign-up surge's clients (bench_signup_surge.py): browsers that sign up one after
another, probes of GET / and GET /health beside them, and what the kernel and the
connections saw meanwhile."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from harness import Server, group_cpu_seconds

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
STATE_COOKIE = "gapo_state"  # Quart's signed session cookie: it carries the CSRF token


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
