"""What peers fetch most, against the framework's ceiling: WebFinger, actor JSON, NodeInfo.

    .venv/bin/python bench/bench_ap_documents.py [--workers 1 2] [--rounds 3] [--seconds 4]

For each worker count, in one run: a bare Quart + Hypercorn app on the same settings and
the same spreading of connections over workers (bench/harness.py `BareQuart`), then a real
`gapo serve` with one local account, driven by wrk on

- `GET /.well-known/webfinger?resource=acct:alice@<host>`,
- `GET /users/alice` with `Accept: application/activity+json`,
- `GET /nodeinfo/2.1`,

in interleaved rounds (bare, WebFinger, actor, NodeInfo; `--rounds` times): the machine is
shared and its speed drifts, so each figure is the median of its rounds and each Gapo line
prints its ratio to the bare app's median. Below the table: the server's CPU time per
request (every process of the server, from /proc), the figure noise disturbs least.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    BareQuart,
    GapoServer,
    Row,
    WrkResult,
    create_user,
    group_cpu_seconds,
    print_table,
    run_migrate,
    wrk,
)

AP = "application/activity+json"


@dataclass
class Series:
    """One target's runs across the rounds, with the CPU its server spent on each."""

    runs: list[WrkResult] = field(default_factory=list)
    cpu_us_per_request: list[float] = field(default_factory=list)

    def median_run(self) -> WrkResult:
        return sorted(self.runs, key=lambda r: r.rps)[len(self.runs) // 2]

    def median_cpu_us(self) -> float:
        return statistics.median(self.cpu_us_per_request)


def timed(
    url: str, cpu: Callable[[], float], headers: dict[str, str], load: dict[str, float]
) -> tuple[WrkResult, float]:
    """One wrk run and the server's CPU microseconds per answered request during it."""
    before = cpu()
    result = wrk(
        url, headers=headers, connections=int(load["connections"]), seconds=load["seconds"]
    )
    spent = cpu() - before
    return result, spent * 1e6 / max(1, result.requests)


def warm(url: str, headers: dict[str, str]) -> None:
    """One request first, so the run measures the steady state, not the first build."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1)
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        assert reply.status == 200, (url, reply.status)


def measure(workers: int, data_dir: Path, args: argparse.Namespace) -> tuple[list[Row], str]:
    load = {"connections": args.connections, "seconds": args.seconds}
    with BareQuart(workers=workers) as bare, GapoServer(data_dir, workers=workers) as gapo:
        host = gapo.base_url.removeprefix("http://")
        targets = {
            "WebFinger GET": (f"/.well-known/webfinger?resource=acct:alice@{host}", {}),
            "actor JSON GET": ("/users/alice", {"Accept": AP}),
            "NodeInfo GET": ("/nodeinfo/2.1", {}),
        }
        for path, headers in targets.values():
            warm(gapo.base_url + path, headers)
        # The bare app's process group is its pid (started with a session of its own).
        bare_cpu = partial(group_cpu_seconds, bare._proc.pid)  # type: ignore[union-attr]
        series = {name: Series() for name in ("bare /json", *targets)}
        # Interleaved rounds: the machine is shared, so its speed drifts; each round
        # measures the ceiling next to every target and the medians are compared.
        for _round in range(args.rounds):
            run, cpu_us = timed(f"{bare.base_url}/json", bare_cpu, {}, load)
            series["bare /json"].runs.append(run)
            series["bare /json"].cpu_us_per_request.append(cpu_us)
            for name, (path, headers) in targets.items():
                run, cpu_us = timed(gapo.base_url + path, gapo.cpu_seconds, headers, load)
                series[name].runs.append(run)
                series[name].cpu_us_per_request.append(cpu_us)
        ceiling = series["bare /json"].median_run()
        rows = [
            Row.of(
                "bare /json",
                "bare",
                bare,
                ceiling,
                connections=args.connections,
                workers=workers,
            )
        ]
        for name in targets:
            rows.append(
                Row.of(
                    name,
                    "gapo",
                    gapo,
                    series[name].median_run(),
                    connections=args.connections,
                    workers=workers,
                    ceiling=ceiling,
                )
            )
        bare_us = series["bare /json"].median_cpu_us()
        cpu_lines = [
            f"- {workers} worker(s), bare /json: {bare_us:.0f} µs of server CPU per request"
        ]
        for name in targets:
            us = series[name].median_cpu_us()
            cpu_lines.append(
                f"- {workers} worker(s), {name}: {us:.0f} µs of server CPU per request"
                f" ({us / bare_us:.2f}× the bare app's)"
            )
        problems = gapo.log_problems()
        if problems:
            print("server log problems:", *problems[:10], sep="\n", file=sys.stderr)
    return rows, "\n".join(cpu_lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=4, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    rows: list[Row] = []
    cpu_notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gapo-bench-ap-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        run_migrate(data_dir, [])
        create_user(data_dir, "alice", "correct horse battery staple 42")
        for workers in args.workers:
            started = time.monotonic()
            measured, notes = measure(workers, data_dir, args)
            rows += measured
            cpu_notes.append(notes)
            print(f"{workers} worker(s) measured in {time.monotonic() - started:.0f} s")
    print_table(rows)
    print("\nMedian server CPU per request (all processes of the server, wrk excluded):")
    print("\n".join(cpu_notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
