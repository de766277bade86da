"""Real Gapo instances on loopback for federation tests: own port, own data dir, real HTTP.

Each instance is a `gapo serve` process; tests drive it through its web forms with a
cookie-keeping client and read its SQLite file to check what was stored.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ACCOUNT_ID_RE = re.compile(r'name="account_id" value="(\d+)"')
PASSWORD = "federation test passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(
    check: Callable[[], Awaitable[Any] | Any], timeout: float = 20.0, interval: float = 0.2
) -> Any:
    """Poll until `check` returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        result = check()
        last = await result if asyncio.iscoroutine(result) else result
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


class GapoInstance:
    def __init__(
        self,
        name: str,
        root: Path,
        port: int | None = None,
        *,
        serve_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.serve_args = serve_args  # e.g. ("--no-jobs",)
        self.extra_env = dict(extra_env or {})
        self.port = port or free_port()
        self.data_dir = root / name
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / f"{name}.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAPO_")}
        env.update(
            {
                "GAPO_DATA_DIR": str(self.data_dir),
                "GAPO_BASE_URL": self.base_url,
                "GAPO_ALLOW_PRIVATE_ADDRESSES": "1",
                "GAPO_ARGON2_TIME_COST": "1",
                "GAPO_ARGON2_MEMORY_KIB": "1024",
                "GAPO_SQLITE_SYNCHRONOUS": "NORMAL",
            }
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "instance", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"gapo {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def start(self) -> GapoInstance:
        self.cli("migrate")
        with socket.socket() as probe:  # fail loudly if an old process still holds the port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", self.port))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "instance",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    # One worker unless asked: `gapo serve` defaults to one per CPU.
                    *(() if "--workers" in self.serve_args else ("--workers", "1")),
                    *self.serve_args,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self, *, hard: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # Any worker child processes go down with the server: signal the whole group.
            os.killpg(self.process.pid, signal.SIGKILL if hard else signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def create_user(self, username: str, **flags: str) -> None:
        self.cli(
            "user",
            "create",
            username,
            "--email",
            f"{username}@example.org",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = sqlite3.connect(
            f"file:{self.data_dir / 'gapo.sqlite3'}?mode=ro", uri=True, timeout=10
        )
        conn.row_factory = sqlite3.Row
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()

    def handle(self, username: str) -> str:
        return f"@{username}@{self.host}"

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"


class WebUser:
    """A person using one instance's web UI through real HTTP."""

    def __init__(self, instance: GapoInstance, username: str) -> None:
        self.instance = instance
        self.username = username
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> str:
        async with self.session.get(self.instance.base_url + path) as response:
            assert response.status == 200, f"GET {path} -> {response.status}"
            return await response.text()

    async def post_form(self, path: str, data: dict[str, str], csrf_from: str = "/") -> int:
        page = await self.get(csrf_from)
        token = CSRF_RE.search(page)
        assert token, f"no CSRF token on {csrf_from}"
        async with self.session.post(
            self.instance.base_url + path,
            data={**data, "csrf_token": token.group(1)},
            allow_redirects=False,
        ) as response:
            return response.status

    async def login(self) -> WebUser:
        status = await self.post_form(
            "/login", {"login": self.username, "password": PASSWORD}, csrf_from="/login"
        )
        assert status == 302, f"login failed with {status}"
        return self

    async def follow(self, query: str) -> str:
        from urllib.parse import quote

        page = await self.get(f"/search?q={quote(query)}")
        match = ACCOUNT_ID_RE.search(page)
        assert match, f"no follow form for {query}"
        status = await self.post_form(
            "/follow", {"account_id": match.group(1)}, csrf_from=f"/search?q={quote(query)}"
        )
        assert status == 302
        return match.group(1)

    async def unfollow(self, account_id: str) -> None:
        status = await self.post_form("/unfollow", {"account_id": account_id})
        assert status == 302

    async def post(self, text: str, **fields: str) -> int:
        before = {r["id"] for r in self.instance.query("SELECT id FROM posts WHERE local = 1")}
        status = await self.post_form("/posts", {"text": text, **fields}, csrf_from="/home")
        assert status == 302, f"posting failed with {status}"
        after = self.instance.query(
            "SELECT p.id FROM posts p JOIN accounts a ON a.id = p.account_id"
            " WHERE a.username = ? AND p.local = 1 ORDER BY p.id DESC LIMIT 1",
            (self.username,),
        )
        post_id = int(after[0]["id"])
        assert post_id not in before
        return post_id

    async def act(self, post_id: int, action: str, data: dict[str, str] | None = None) -> None:
        status = await self.post_form(
            f"/p/{post_id}/{action}", data or {}, csrf_from=f"/p/{post_id}"
        )
        assert status == 302, f"{action} failed with {status}"


@asynccontextmanager
async def signed_in(*people: tuple[GapoInstance, str]) -> AsyncIterator[list[WebUser]]:
    """Each (instance, username) as a new account there, signed in through the web UI, in
    the order given; every session is closed on the way out, whatever happened."""
    users: list[WebUser] = []
    try:
        for instance, username in people:
            instance.create_user(username)
            users.append(user := WebUser(instance, username))
            await user.login()
        yield users
    finally:
        for user in users:
            await user.close()
