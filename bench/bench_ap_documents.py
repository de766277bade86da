"""What peers fetch most, against the framework's ceiling: WebFinger, actor JSON, NodeInfo.

    .venv/bin/python bench/bench_ap_documents.py [--workers 1 2] [--seconds 8] [--connections 64]

For each worker count, in one run: a bare Quart + Hypercorn app on the same settings and
the same spreading of connections over workers (bench/harness.py `BareQuart`), then a real
`gapo serve` with one local account, driven by wrk on

- `GET /.well-known/webfinger?resource=acct:alice@<host>`,
- `GET /users/alice` with `Accept: application/activity+json`,
- `GET /nodeinfo/2.1`,

then the bare app's `/json` again. The ceiling is the mean of the two bare runs (the machine
is shared: its speed drifts during a run), and each Gapo line prints its ratio to it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_signup_surge import run_migrate
from harness import BareQuart, GapoServer, Row, WrkResult, create_user, print_table, wrk

AP = "application/activity+json"


def mean_ceiling(first: WrkResult, second: WrkResult) -> WrkResult:
    """A WrkResult whose rate is the mean of two runs (what the ratio divides by)."""
    total = first.seconds + second.seconds
    requests = round((first.rps + second.rps) / 2 * total)
    return WrkResult(
        requests=requests,
        seconds=total,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p90_ms=(first.p90_ms + second.p90_ms) / 2,
        p99_ms=max(first.p99_ms, second.p99_ms),
        max_ms=max(first.max_ms, second.max_ms),
        statuses={},
        timeouts=first.timeouts + second.timeouts,
        socket_errors=first.socket_errors + second.socket_errors,
    )


def warm(url: str, headers: dict[str, str]) -> None:
    """One request first, so the run measures the steady state, not the first build."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1)
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        assert reply.status == 200, (url, reply.status)


def measure(workers: int, data_dir: Path, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    load = {"connections": args.connections, "seconds": args.seconds}
    with BareQuart(workers=workers) as bare, GapoServer(data_dir, workers=workers) as gapo:
        host = gapo.base_url.removeprefix("http://")
        targets = [
            ("WebFinger GET", f"/.well-known/webfinger?resource=acct:alice@{host}", {}),
            ("actor JSON GET", "/users/alice", {"Accept": AP}),
            ("NodeInfo GET", "/nodeinfo/2.1", {}),
        ]
        for _name, path, headers in targets:
            warm(gapo.base_url + path, headers)
        before = wrk(f"{bare.base_url}/json", **load)
        results = []
        for name, path, headers in targets:
            results.append((name, wrk(gapo.base_url + path, headers=headers, **load)))
        after = wrk(f"{bare.base_url}/json", **load)
        ceiling = mean_ceiling(before, after)
        for label, run in (("bare /json (before)", before), ("bare /json (after)", after)):
            rows.append(
                Row.of(label, "bare", bare, run, connections=args.connections, workers=workers)
            )
        for name, result in results:
            rows.append(
                Row.of(
                    name,
                    "gapo",
                    gapo,
                    result,
                    connections=args.connections,
                    workers=workers,
                    ceiling=ceiling,
                )
            )
        problems = gapo.log_problems()
        if problems:
            print("server log problems:", *problems[:10], sep="\n", file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gapo-bench-ap-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        run_migrate(data_dir, [])
        create_user(data_dir, "alice", "correct horse battery staple 42")
        for workers in args.workers:
            started = time.monotonic()
            rows += measure(workers, data_dir, args)
            print(f"{workers} worker(s) measured in {time.monotonic() - started:.0f} s")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
