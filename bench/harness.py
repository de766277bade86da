"""What every speed benchmark shares: a real `gapo serve`, the framework's ceiling, wrk, a table.

The server process (`Server`: `gapo serve` in a process group of its own, its CPU time and
memory read from /proc; `gapo_cli`, `run_migrate`, `create_user`), `GapoServer` around it,
`BareQuart`, `wrk`, `percentile` and the table are defined here once for every bench file.

Each scenario of docs/performance.md is one `bench/bench_*.py` command that starts the real
server on loopback, drives it, and in the same run measures a bare Quart + Hypercorn app on
the same settings (the ceiling: what the framework alone answers on this machine while the
same client runs). The ratio to that ceiling is the figure that survives a busy or a
different machine; absolute req/s alone does not.

    from harness import GapoServer, BareQuart, wrk, Row, print_table

    with GapoServer(data_dir, workers=1) as gapo, BareQuart(workers=1) as bare:
        ceiling = wrk(f"{bare.base_url}/json", connections=64, seconds=10)
        result = wrk(f"{gapo.base_url}/.well-known/nodeinfo", connections=64, seconds=10)
        print_table([Row.of("nodeinfo", "bare", bare, ceiling),
                     Row.of("nodeinfo", "gapo", gapo, result, ceiling=ceiling)])

wrk is Debian's package `wrk` (a C load generator: its CPU cost per request is far below
an asyncio client's, which matters when client and server share two cores). Its Lua hooks
count answers by status and print the latency percentiles as one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]


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


def gapo_cli(
    data_dir: Path, args: Sequence[str], extra: Sequence[str] = (), stdin: str | None = None
) -> None:
    """One `gapo …` command on the data dir, as an admin runs it; stops the benchmark if it
    fails."""
    result = subprocess.run(
        [*gapo_command(), *args],
        input=stdin,
        env=server_env(data_dir, "http://127.0.0.1:8000", extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"gapo {' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


def run_migrate(data_dir: Path, extra: Sequence[str]) -> None:
    gapo_cli(data_dir, ["migrate"], extra)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def process_rss_mib(pgid: int, field: str = "VmRSS") -> list[float]:
    """Resident memory (VmRSS; or `field`, e.g. the peak VmHWM) of each process in the
    group, in MiB, largest first."""
    sizes = []
    for pid in group_processes(pgid):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    sizes.append(int(line.split()[1]) / 1024)
    return sorted(sizes, reverse=True)


class Measured(Protocol):
    """Anything with processes whose memory the table reports."""

    def rss_mib(self) -> list[float]: ...


# --- Gapo ---------------------------------------------------------------------------------


class GapoServer:
    """`gapo migrate` + `gapo serve` on a free loopback port, stopped (whole group) on exit."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 1,
        env: Sequence[str] = (),
        migrate: bool = True,
        start_seconds: float = 60,
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.env = list(env)
        self.migrate = migrate
        self.start_seconds = start_seconds
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = Server(data_dir, data_dir.parent / f"server-{id(self)}.log", workers, env)

    def __enter__(self) -> GapoServer:
        if self.migrate:
            run_migrate(self.data_dir, self.env)
        self._server.start(seconds=self.start_seconds)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def pgid(self) -> int:
        return self._server.pgid

    def rss_mib(self) -> list[float]:
        return process_rss_mib(self._server.pgid) if self._server.alive() else []

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self._server.pgid)

    def log_text(self) -> str:
        return self._server.log_text()

    def log_problems(self) -> list[str]:
        """Lines of the server's log that name an error (a benchmark must not cause any)."""
        return [
            line
            for line in self.log_text().splitlines()
            if "Traceback" in line or " ERROR " in line or " CRITICAL " in line
        ]


def create_user(data_dir: Path, name: str, password: str, env: Sequence[str] = ()) -> None:
    """A confirmed local user, through the same CLI an admin uses."""
    command = ["user", "create", name, "--email", f"{name}@example.org", "--password-stdin"]
    gapo_cli(data_dir, command, env, stdin=password + "\n")


# --- the framework's ceiling --------------------------------------------------------------

# The same Hypercorn limits as `gapo serve` (instance/server_limits.py `tune`), the access
# log off as Gapo's default, the same worker count and the same spreading of connections
# over workers (`run_workers`): only the application differs.
BARE_APP = textwrap.dedent(
    """
    import json, sys
    from hypercorn.config import Config
    from instance.serve_workers import run_workers
    from instance.server_limits import tune

    # Spawned workers import this file again as __mp_main__: only the parent serves.
    if __name__ == "__main__":
        port, workers = int(sys.argv[1]), int(sys.argv[2])
        config = Config()
        config.application_path = "bare_app:app"
        config.bind = [f"127.0.0.1:{port}"]
        config.accesslog = None
        config.graceful_timeout = 10
        tune(config)
        # As `gapo serve` runs them: one SO_REUSEPORT socket per worker (serve_workers.py).
        sys.exit(run_workers(config, "127.0.0.1", port, workers))
    """
)

BARE_MODULE = textwrap.dedent(
    """
    import json
    from quart import Quart, request, render_template_string

    app = Quart(__name__)
    PAGE = ("<!doctype html><title>{{ t }}</title><ul>"
            "{% for i in items %}<li>{{ i }}</li>{% endfor %}</ul>")
    DOC = json.dumps({"@context": "https://www.w3.org/ns/activitystreams",
                      "id": "http://127.0.0.1/users/bare", "type": "Person",
                      "preferredUsername": "bare", "inbox": "http://127.0.0.1/users/bare/inbox"})

    @app.get("/")
    async def index():
        return await render_template_string(PAGE, t="bare", items=range(20))

    @app.get("/json")
    async def document():
        return DOC, 200, {"Content-Type": "application/activity+json"}

    @app.post("/post")
    async def accept():
        await request.get_data()
        return "", 202
    """
)


class BareQuart:
    """A bare Quart app under Hypercorn on the same settings as `gapo serve` (see BARE_APP)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._tmp = tempfile.TemporaryDirectory(prefix="gapo-bare-")
        self._proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def __enter__(self) -> BareQuart:
        folder = Path(self._tmp.name)
        (folder / "bare_run.py").write_text(BARE_APP)
        (folder / "bare_app.py").write_text(BARE_MODULE)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{root}"}
        self._proc = subprocess.Popen(
            [sys.executable, str(folder / "bare_run.py"), str(port), str(self.workers)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready(30)
        return self

    def _wait_ready(self, seconds: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SystemExit(f"the bare app exited with {self._proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/json", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        time.sleep(1.0 if self.workers > 1 else 0)
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the bare app did not start")

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=10)
        self._tmp.cleanup()

    def rss_mib(self) -> list[float]:
        if self._proc is None or self._proc.poll() is not None:
            return []
        return process_rss_mib(self._proc.pid)


# --- wrk ----------------------------------------------------------------------------------

# Each wrk thread has its own Lua state: counts are per thread, gathered in done().
WRK_LUA = textwrap.dedent(
    """
    local threads = {}
    function setup(thread) table.insert(threads, thread) end
    function init(args) statuses = {} end
    function response(status, headers, body)
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
    end
    function done(summary, latency, requests)
      local all = {}
      for _, thread in ipairs(threads) do
        local counts = thread:get("statuses")
        for key, n in pairs(counts) do all[key] = (all[key] or 0) + n end
      end
      local parts = {}
      for key, n in pairs(all) do table.insert(parts, string.format('"%s":%d', key, n)) end
      io.write(string.format(
        'WRKJSON {"requests":%d,"seconds":%f,"p50":%f,"p90":%f,"p99":%f,"max":%f,'
        .. '"timeouts":%d,"connect":%d,"read":%d,"write":%d,"statuses":{%s}}\\n',
        summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
        latency:percentile(99) / 1e3, latency.max / 1e3,
        summary.errors.timeout, summary.errors.connect, summary.errors.read,
        summary.errors.write, table.concat(parts, ",")))
    end
    """
)


@dataclass
class WrkResult:
    """What one wrk run measured. Latencies in milliseconds."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    timeouts: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ok(self) -> int:
        """Answers with a 2xx or 3xx status."""
        return sum(n for status, n in self.statuses.items() if status[0] in "23")


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    lua: str | None = None,
    timeout_seconds: float = 5,
) -> WrkResult:
    """Runs wrk against `url`; `lua` is extra Lua (e.g. a `request` function) placed first.

    The request line, headers and body are set through wrk.method/headers/body in Lua, so a
    caller's own `request` function may still override them.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian's package)")
    setup = [f"wrk.method = {json.dumps(method)}"]
    for name, value in (headers or {}).items():
        setup.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if body is not None:
        setup.append(f"wrk.body = {json.dumps(body)}")
    script = "\n".join([*setup, lua or "", WRK_LUA])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = handle.name
    try:
        completed = subprocess.run(
            [
                binary,
                f"-t{max(1, min(threads, connections))}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={max(1, round(timeout_seconds))}s",
                "-s",
                script_path,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        os.unlink(script_path)
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            data = json.loads(line[len("WRKJSON ") :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["seconds"],
                p50_ms=data["p50"],
                p90_ms=data["p90"],
                p99_ms=data["p99"],
                max_ms=data["max"],
                statuses=dict(sorted(data["statuses"].items())),
                timeouts=data["timeouts"],
                socket_errors=data["connect"] + data["read"] + data["write"],
            )
    raise SystemExit(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")


# --- the table ----------------------------------------------------------------------------


@dataclass
class Row:
    """One measurement, as a line of docs/performance.md's tables."""

    scenario: str
    server: str
    workers: int
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    rss_mib: list[float] = field(default_factory=list)
    ceiling_rps: float | None = None

    @classmethod
    def of(
        cls,
        scenario: str,
        server: str,
        target: Measured,
        result: WrkResult,
        *,
        connections: int,
        workers: int = 1,
        ceiling: WrkResult | None = None,
    ) -> Row:
        return cls(
            scenario=scenario,
            server=server,
            workers=workers,
            connections=connections,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            statuses=result.statuses,
            errors=result.timeouts + result.socket_errors,
            rss_mib=target.rss_mib(),
            ceiling_rps=ceiling.rps if ceiling is not None else None,
        )

    def line(self) -> str:
        statuses = " ".join(f"{s}:{n}" for s, n in self.statuses.items()) or "-"
        rss = "/".join(f"{m:.0f}" for m in self.rss_mib) or "-"
        ratio = f"{self.rps / self.ceiling_rps:.2f}×" if self.ceiling_rps else "-"
        return (
            f"| {self.scenario} | {self.server} | {self.workers} | {self.connections}"
            f" | {self.rps:,.0f} | {self.p50_ms:.1f} | {self.p99_ms:.1f} | {statuses}"
            f" | {self.errors} | {rss} | {ratio} |"
        )


TABLE_HEADER = (
    "| scenario | server | workers | connections | req/s | p50 ms | p99 ms | statuses"
    " | timeouts+socket errors | RSS MiB per process | × ceiling |\n"
    "|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|"
)


def print_table(rows: Sequence[Row], command: str | None = None) -> None:
    """The rows as a markdown table, with the command and machine above it."""
    if command is None:
        command = " ".join([".venv/bin/python", *sys.argv])
    print(f"\n`{command}` ({os.cpu_count()} CPUs, client on the same machine)\n")
    print(TABLE_HEADER)
    for row in rows:
        print(row.line())
