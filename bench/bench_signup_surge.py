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
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BareQuart, Server, percentile, process_rss_mib, run_migrate
from signup_surge_checks import (
    KeyCheck,
    check_actor_keys,
    check_database,
    check_rows,
    server_log_problems,
)
from signup_surge_client import Probe, SurgeResult, prober, surge

# --- the report ---------------------------------------------------------------------------


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


# --- the bare app, the summary --------------------------------------------------------------

HASH_ROUNDS = 15


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
    with BareQuart(workers=workers) as bare:
        result = asyncio.run(bare_load(bare.base_url, args, max(seconds, 3.0)))
        result.rss_mib = bare.rss_mib()
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
            start_rss = process_rss_mib(server.pgid, "VmRSS")
            result = asyncio.run(surge(server, args))
            peak_rss = process_rss_mib(server.pgid)
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
