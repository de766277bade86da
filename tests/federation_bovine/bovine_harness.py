"""Drive an independent ActivityPub peer (bovine, in its own venv) from Gapo's tests.

The peer is `tests/federation_bovine/bovine_peer/peer.py`, run as a separate process with
`.venv-bovine/bin/python` on 127.0.0.1; the venv is made on first use by
`tests/federation_bovine/setup_bovine_venv.sh` (PyPI at install time, loopback only at run time).

    peer = BovinePeer.start(free_port(), "alice", tmp_path / "alice")
    try:
        follow_id = await peer.follow("http://127.0.0.1:8000/users/bob")  # or "bob@host:port"
        note_id = await peer.post("hello")     # Create(Note) to Public + followers, signed
        entries = await peer.inbox()           # [{"activity", "verified", "key_id", ...}]
        await peer.set_aliases([gapo_actor]); await peer.move(gapo_actor)  # account migration
    finally:
        peer.stop()

Everything the peer sends is signed by bovine (draft-cavage rsa-sha256 with `Digest`);
everything its inbox gets is verified by bovine, and each inbox entry says whether it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import aiohttp

PEERS_DIR = Path(__file__).resolve().parent
REPO_ROOT = PEERS_DIR.parent.parent
SETUP_SCRIPT = PEERS_DIR / "setup_bovine_venv.sh"
PEER_SCRIPT = PEERS_DIR / "bovine_peer" / "peer.py"
VENV = Path(os.environ.get("BOVINE_VENV", REPO_ROOT / ".venv-bovine"))
START_TIMEOUT = 30.0
INSTALL_TIMEOUT = 600.0
REQUEST_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_venv(log_dir: Path | None = None) -> Path:
    """Run the (idempotent, stamped) setup script; return the venv's python."""
    python = VENV / "bin" / "python"
    log_path = (log_dir or VENV) / "bovine-venv-setup.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Test processes run side by side (pytest -n): one installs, the others wait for it.
    lock_path = VENV.parent / f".{VENV.name}.lock"
    with lock_path.open("a") as lock, log_path.open("wb") as log:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["bash", str(SETUP_SCRIPT)],
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=INSTALL_TIMEOUT,
            env={**os.environ, "BOVINE_VENV": str(VENV)},
            check=False,
        )
    if result.returncode != 0 or not python.exists():
        raise RuntimeError(f"setting up {VENV} failed; see {log_path}:\n{log_path.read_text()}")
    return python


class PeerError(RuntimeError):
    """The peer's control API answered with an error."""


class BovinePeer:
    """One running bovine peer process and a client for its /_control/ API."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        log: IO[bytes],
        port: int,
        name: str,
        state_dir: Path,
    ) -> None:
        self.process = process
        self._log = log
        self.port = port
        self.name = name
        self.state_dir = state_dir
        self.base_url = f"http://127.0.0.1:{port}"
        self.actor_id = f"{self.base_url}/actor"
        self.handle = f"{name}@127.0.0.1:{port}"
        self.log_path = state_dir / "peer.log"

    @classmethod
    def start(cls, port: int, name: str, state_dir: Path) -> BovinePeer:
        """Launch the peer (setting up its venv if needed); wait until /actor answers."""
        state_dir.mkdir(parents=True, exist_ok=True)
        python = ensure_venv(state_dir)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(state_dir)),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_PROXY": "*",  # loopback only, never through a proxy
        }
        log = (state_dir / "peer.log").open("ab")
        command = [str(python), str(PEER_SCRIPT), "--host", "127.0.0.1", "--port", str(port)]
        command += ["--name", name, "--state-dir", str(state_dir)]
        try:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        except BaseException:
            log.close()
            raise
        peer = cls(process, log, port, name, state_dir)
        try:
            peer._wait_ready(START_TIMEOUT)
        except BaseException:
            peer.stop()
            raise
        return peer

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            self.actor_id, headers={"Accept": "application/activity+json"}
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"bovine peer exited with {self.process.returncode}:\n{self.read_log()}"
                )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200 and json.load(response).get("id") == self.actor_id:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"bovine peer not ready after {timeout} s:\n{self.read_log()}")

    def read_log(self) -> str:
        """The peer's stdout and stderr so far (hypercorn access log, bovine's warnings)."""
        self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process; kill it if it has not exited after `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._log.close()

    def __enter__(self) -> BovinePeer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, f"{self.base_url}/_control/{path}", json=payload) as response,
        ):
            body = await response.text()
            if response.status >= 400:
                raise PeerError(
                    f"{method} /_control/{path} -> {response.status}: {body[:2000]}\n"
                    f"--- peer log tail ---\n{self.read_log()[-4000:]}"
                )
            return json.loads(body)

    async def follow(self, actor: str) -> str:
        """Send a bovine-signed Follow to `actor` (URL or `user@host`); return the Follow's id.

        Raises PeerError if the target's inbox refused it (its status is in the message)."""
        answer = await self._call("POST", "follow", {"actor": actor})
        return str(answer["id"])

    async def post(
        self,
        content: str,
        *,
        to: list[str] | None = None,
        in_reply_to: str | None = None,
        attachment: list[dict[str, Any]] | None = None,
    ) -> str:
        """Create(Note) to Public + followers (+ `to` actors, mentioned), delivered signed to
        each follower's inbox before this returns; return the Note's id (fetchable there).

        Raises PeerError if any inbox refused the delivery."""
        payload: dict[str, Any] = {"content": content, "to": to or []}
        if attachment:
            payload["attachment"] = attachment
        if in_reply_to:
            payload["inReplyTo"] = in_reply_to
        answer = await self._call("POST", "post", payload)
        return str(answer["id"])

    async def fetch(self, url: str) -> dict[str, Any]:
        """`url` as bovine's client gets it (a signed GET from the peer's actor)."""
        return dict(await self._call("POST", "fetch", {"url": url}))

    async def inbox(self) -> list[dict[str, Any]]:
        """Everything POSTed to the inbox: {activity, verified, key_id, signer, error?}."""
        return list(await self._call("GET", "inbox"))

    async def followers(self) -> list[str]:
        """Actor ids whose Follow this peer accepted (and not undone)."""
        return [str(actor) for actor in await self._call("GET", "followers")]

    async def following(self) -> list[dict[str, Any]]:
        """Follows this peer sent: {id, actor, inbox, state: pending|accepted|rejected}."""
        return list(await self._call("GET", "following"))

    async def fetches(self) -> list[dict[str, Any]]:
        """Signed GETs this peer received: {path, verified, key_id, signer, error?}."""
        return list(await self._call("GET", "fetches"))

    async def set_aliases(self, aliases: list[str]) -> dict[str, Any]:
        """List these actor ids in the peer actor's `alsoKnownAs`; returns its document."""
        return dict(await self._call("POST", "aliases", {"aliases": aliases}))

    async def move(self, target: str) -> dict[str, Any]:
        """Send a signed Move of the peer's actor to `target` to every follower's inbox.

        Raises PeerError if an inbox refused it."""
        return dict(await self._call("POST", "move", {"target": target}))

    async def moves(self) -> list[dict[str, Any]]:
        """Moves received: {id, origin, target, checked, reason} (Mastodon's checks)."""
        return list(await self._call("GET", "moves"))


if (
    __name__ == "__main__"
):  # `python tests/federation_bovine/bovine_harness.py` just prepares the venv
    print(ensure_venv(), file=sys.stderr)
