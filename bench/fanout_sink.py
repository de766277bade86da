"""A loopback sink for fan-out benchmarks: many fake hosts (one port each), every POST 202.

    python bench/fanout_sink.py --hosts 1010 --keys-db data/gapo.sqlite3

Runs in a process of its own so it never shares a GIL with the server it measures. A raw
asyncio HTTP/1.1 server with keep-alive (no framework: its own cost per request must stay
far below the sender's). It counts deliveries per (port, path), remembers when the last
one arrived, and checks the HTTP signature of one delivery in `--verify-every` with the
public key of its keyId, read from the server's database `--keys-db` when first seen
(keys are made on an account's first federation, so they cannot be listed before). GET /count on the control port
answers {"total", "distinct", "duplicates", "first", "last", "verified", "bad"}; POST
/reset clears the counters. Ports are chosen by the kernel; once listening the sink prints
one line, `ready CONTROL PORT1,PORT2,...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from activitypub.signatures import SignatureError, verify_request

ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


class Counts:
    def __init__(self, keys_db: Path | None, verify_every: int) -> None:
        self.keys_db = keys_db
        self.keys: dict[str, str] = {}
        self.verify_every = verify_every
        self.reset()

    def reset(self) -> None:
        self.per_inbox: Counter[tuple[int, str]] = Counter()
        self.total = 0
        self.first = 0.0
        self.last = 0.0
        self.verified = 0
        self.bad: list[str] = []

    def record(self, port: int, path: str, headers: dict[str, str], body: bytes) -> None:
        self.total += 1
        self.last = time.time()
        if self.total == 1:
            self.first = self.last
        self.per_inbox[(port, path)] += 1
        if self.keys_db is not None and self.total % self.verify_every == 1:
            self.verify(port, path, headers, body)

    def verify(self, port: int, path: str, headers: dict[str, str], body: bytes) -> None:
        url = f"http://127.0.0.1:{port}{path}"
        try:
            key_id = _key_id(headers)
            verify_request("POST", url, headers, body, self.public_key(key_id))
            self.verified += 1
        except (SignatureError, ValueError, LookupError) as exc:
            self.bad.append(f"{url}: {exc!r}")

    def public_key(self, key_id: str) -> str:
        if key_id not in self.keys:
            assert self.keys_db is not None
            conn = sqlite3.connect(f"file:{self.keys_db}?mode=ro", uri=True)
            try:
                row = conn.execute(
                    "SELECT public_pem FROM keypairs WHERE key_id = ?", (key_id,)
                ).fetchone()
            finally:
                conn.close()
            if row is None:
                raise LookupError(f"no key {key_id} in the server's database")
            self.keys[key_id] = row[0]
        return self.keys[key_id]

    def summary(self) -> dict[str, object]:
        return {
            "total": self.total,
            "distinct": len(self.per_inbox),
            "duplicates": sum(n - 1 for n in self.per_inbox.values() if n > 1),
            "first": self.first,
            "last": self.last,
            "verified": self.verified,
            "bad": self.bad[:5],
        }


def _key_id(headers: dict[str, str]) -> str:
    value = headers.get("signature", "")
    marker = 'keyId="'
    start = value.find(marker)
    if start >= 0:
        return value[start + len(marker) : value.find('"', start + len(marker))]
    value = headers.get("signature-input", "")
    start = value.find('keyid="')
    return value[start + 7 : value.find('"', start + 7)] if start >= 0 else ""


class Http(asyncio.Protocol):
    """Just enough HTTP/1.1: request line, headers, Content-Length body, keep-alive."""

    def __init__(self, port: int, counts: Counts, control: bool) -> None:
        self.port = port
        self.counts = counts
        self.control = control
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, path, _ = head[0].split(" ", 2)
            self.handle(method, path, headers, body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        assert self.transport is not None
        if self.control:
            if path == "/reset":
                self.counts.reset()
            answer = json.dumps(self.counts.summary()).encode()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(answer)).encode()
                + b"\r\n\r\n"
                + answer
            )
            return
        if method == "POST":
            self.counts.record(self.port, path, headers, body)
        self.transport.write(ACCEPTED)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, required=True, help="fake hosts: one port each")
    parser.add_argument("--keys-db", type=Path, help="the server's SQLite file")
    parser.add_argument("--verify-every", type=int, default=50)
    args = parser.parse_args()
    counts = Counts(args.keys_db, args.verify_every)
    loop = asyncio.get_running_loop()

    async def listen(control: bool) -> int:
        holder: list[int] = [0]
        server = await loop.create_server(
            lambda: Http(holder[0], counts, control), "127.0.0.1", 0, backlog=1024
        )
        holder[0] = server.sockets[0].getsockname()[1]
        servers.append(server)
        return holder[0]

    servers: list[asyncio.Server] = []
    control = await listen(True)
    ports = [await listen(False) for _ in range(args.hosts)]
    print(f"ready {control} {','.join(map(str, ports))}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
