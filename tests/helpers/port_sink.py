"""Many fake remote hosts on loopback: one listening port each, every POST answered 202.

A delivery's host is its inbox's `host:port`, so N ports are N hosts to the delivery code
(per-host limits, health rows, connection pools) while all of it stays on 127.0.0.1.
A bare asyncio protocol: a thousand aiohttp sites would make the test slow to start.
"""

from __future__ import annotations

import asyncio
from collections import Counter


class _Http(asyncio.Protocol):
    def __init__(self, sink: PortSink, port: int) -> None:
        self.sink = sink
        self.port = port
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            path = head[0].split(" ")[1]
            self.sink.received[(self.port, path)] += 1
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")


class PortSink:
    """`hosts` listening ports; `received` counts POSTs by (port, path)."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.received: Counter[tuple[int, str]] = Counter()
        self._servers: list[asyncio.Server] = []

    async def start(self, hosts: int) -> PortSink:
        loop = asyncio.get_running_loop()
        for _ in range(hosts):
            holder = [0]

            def protocol(holder: list[int] = holder) -> _Http:
                return _Http(self, holder[0])

            server = await loop.create_server(protocol, "127.0.0.1", 0)
            holder[0] = server.sockets[0].getsockname()[1]
            self.ports.append(holder[0])
            self._servers.append(server)
        return self

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
