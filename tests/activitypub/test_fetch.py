"""The federation HTTP client against real aiohttp servers on loopback.

Nothing here leaves the machine: servers listen on 127.0.0.x, the only name
resolved is ``localhost``, and every refused address is checked to have opened
no socket at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from activitypub import ssrf
from activitypub.fetch import (
    AP_ACCEPT,
    AP_CONTENT_TYPE,
    BadContentType,
    BlockedAddress,
    Fetcher,
    FetchError,
    FetchTimeout,
    HttpStatusError,
    InvalidDocument,
    InvalidUrl,
    OriginMismatch,
    ResponseTooLarge,
    TooManyRedirects,
    is_activitypub_content_type,
    parse_retry_after,
)
from activitypub.ssrf import GuardedResolver, is_forbidden_address

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@dataclass
class Peer:
    """A loopback server, what it saw, and how to reach it."""

    server: TestServer
    hits: list[tuple[str, str, dict[str, str], bytes, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def port(self) -> int:
        port = self.server.port
        assert port is not None
        return port


def build_app(peer_ref: list[Peer]) -> web.Application:
    def peer() -> Peer:
        return peer_ref[0]

    def doc_response(doc: Any, content_type: str = AP_CONTENT_TYPE) -> web.Response:
        return web.Response(body=json.dumps(doc).encode(), headers={"Content-Type": content_type})

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        peer().hits.append(
            (
                request.method,
                request.path_qs,
                dict(request.headers),
                body,
                request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        return await handler(request)

    async def doc(request: web.Request) -> web.Response:
        # ?id= overrides the id, ?ct= the content type; default: the URL it was served at.
        doc_id = request.query.get("id", f"{request.url.origin()}{request.path}")
        return doc_response(
            {"id": doc_id, "type": "Note"}, request.query.get("ct", AP_CONTENT_TYPE)
        )

    async def chain(request: web.Request) -> web.Response:
        hops = int(request.match_info["n"])
        if hops == 0:
            return doc_response({"id": f"{request.url.origin()}/chain/0", "type": "Note"})
        # Alternate relative and absolute Locations: both must work.
        location = f"/chain/{hops - 1}" if hops % 2 else f"{request.url.origin()}/chain/{hops - 1}"
        raise web.HTTPFound(location)

    async def redirect_to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["target"])

    async def raw(request: web.Request) -> web.Response:
        return web.Response(
            body=request.query["body"].encode(), content_type="application/activity+json"
        )

    async def status(request: web.Request) -> web.Response:
        headers = {}
        if "retry" in request.query:
            headers["Retry-After"] = request.query["retry"]
        return web.Response(status=int(request.match_info["code"]), headers=headers, text="no")

    async def big_declared(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 200_000, content_type="application/activity+json")

    async def big_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP_CONTENT_TYPE})
        response.enable_chunked_encoding()  # no Content-Length: only streaming can stop it
        await response.prepare(request)
        try:
            for _ in range(64):
                await response.write(b" " * 32_768)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    async def slow(request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer().release.wait(), 10)
        return doc_response({"id": f"{peer().base}/slow", "type": "Note"})

    async def dribble(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP_CONTENT_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(100):
                if peer().release.is_set():
                    break
                await response.write(b" ")
                await asyncio.sleep(0.05)
        except (ConnectionError, RuntimeError):
            pass
        return response

    async def jrd(request: web.Request) -> web.Response:
        body = {"subject": "acct:u@x", "links": []}
        return doc_response(body, request.query.get("ct", "application/jrd+json"))

    async def hostmeta(request: web.Request) -> web.Response:
        return web.Response(text="<XRD/>", content_type="application/xrd+xml")

    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=202, text="accepted")

    async def inbox_big(request: web.Request) -> web.Response:
        return web.Response(status=400, text="e" * 10_000)

    app = web.Application(middlewares=[record])
    app.router.add_get("/doc", doc)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/redirect", redirect_to)
    app.router.add_post("/redirect", redirect_to)
    app.router.add_get("/raw", raw)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/big-declared", big_declared)
    app.router.add_get("/big-stream", big_stream)
    app.router.add_get("/slow", slow)
    app.router.add_post("/slow", slow)
    app.router.add_get("/dribble", dribble)
    app.router.add_get("/jrd", jrd)
    app.router.add_get("/host-meta", hostmeta)
    app.router.add_post("/inbox", inbox)
    app.router.add_post("/inbox-big", inbox_big)
    return app


async def start_peer(host: str) -> Peer:
    ref: list[Peer] = []
    server = TestServer(build_app(ref), host=host, port=0)
    peer = Peer(server)
    ref.append(peer)
    await server.start_server()
    return peer


async def stop_peer(peer: Peer) -> None:
    peer.release.set()  # let slow handlers finish so shutdown is immediate
    await peer.server.close()


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    started = await start_peer("127.0.0.1")
    yield started
    await stop_peer(started)


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every outgoing socket connect attempted from Python, by address.

    asyncio connects client sockets with ``sock.connect()``; servers only
    accept, so this sees exactly the sockets the client tried to open.
    """
    seen: list[Any] = []
    original_connect = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> None:
        seen.append(address)
        original_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    yield seen


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = Fetcher(allow_private=True)
    yield client
    await client.close()


@pytest.fixture
async def guarded() -> AsyncIterator[Fetcher]:
    client = Fetcher(allow_private=False)
    yield client
    await client.close()


def recording_signer(calls: list[tuple[str, str, bytes | None]]) -> Any:
    async def sign(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        calls.append((method, url, body))
        return {**headers, "Signature": f"sig for {method} {url}"}

    return sign


# -- the address guard ---------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.1.2.3",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
]
ALLOWED = [
    "93.184.216.34",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a01:4f8::1",
    "::ffff:93.184.216.34",
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_allowed(address: str) -> None:
    assert not is_forbidden_address(ip_address(address))


class FakeResolver(AbstractResolver):
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": a,
                "port": port,
                "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for a in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_resolver_drops_forbidden_answers() -> None:
    inner = FakeResolver(["10.0.0.1", "93.184.216.34", "::1", "2606:4700:4700::1111", "bogus"])
    resolver = GuardedResolver(inner)
    got = await resolver.resolve("rebind.example", 443)
    assert [r["host"] for r in got] == ["93.184.216.34", "2606:4700:4700::1111"]
    await resolver.close()
    assert inner.closed


async def test_resolver_refuses_when_nothing_is_left() -> None:
    resolver = GuardedResolver(FakeResolver(["127.0.0.1", "169.254.169.254"]))
    with pytest.raises(BlockedAddress):
        await resolver.resolve("rebind.example", 80)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "[::1]",
        "[fc00::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "[::]",
    ],
)
async def test_ip_literals_refused_without_a_socket(
    host: str, peer: Peer, guarded: Fetcher, connects: list[Any]
) -> None:
    url = f"http://{host}:{peer.port}/doc"
    with pytest.raises(BlockedAddress):
        await guarded.get_json(url)
    with pytest.raises(BlockedAddress):
        await guarded.post(url, b"{}", sign=None)
    assert connects == []
    assert peer.hits == []


async def test_hostname_resolving_to_loopback_refused_at_resolve_time(
    peer: Peer, guarded: Fetcher, connects: list[Any]
) -> None:
    with pytest.raises(BlockedAddress, match="resolves only to"):
        await guarded.get_json(f"http://localhost:{peer.port}/doc")
    assert connects == []
    assert peer.hits == []


async def test_allow_private_reaches_loopback(
    peer: Peer, fetcher: Fetcher, connects: list[Any]
) -> None:
    # The control for the two tests above: the spy does see real connects.
    final, doc = await fetcher.get_json(f"http://localhost:{peer.port}/doc")
    assert final == f"http://localhost:{peer.port}/doc"
    assert doc["id"] == f"http://localhost:{peer.port}/doc"
    assert connects and len(peer.hits) == 1


# -- redirects -------------------------------------------------------------------------


async def test_three_redirects_followed_and_each_hop_signed(peer: Peer, fetcher: Fetcher) -> None:
    calls: list[tuple[str, str, bytes | None]] = []
    final, doc = await fetcher.get_json(f"{peer.base}/chain/3", sign=recording_signer(calls))
    assert final == f"{peer.base}/chain/0"
    assert doc["id"] == final
    urls = [f"{peer.base}/chain/{n}" for n in (3, 2, 1, 0)]
    assert calls == [("GET", u, None) for u in urls]
    seen = [(path, headers["Signature"], headers["Accept"]) for _, path, headers, _, _ in peer.hits]
    assert seen == [
        (f"/chain/{n}", f"sig for GET {u}", AP_ACCEPT)
        for n, u in zip((3, 2, 1, 0), urls, strict=True)
    ]


async def test_fourth_redirect_refused(peer: Peer, fetcher: Fetcher) -> None:
    with pytest.raises(TooManyRedirects):
        await fetcher.get_json(f"{peer.base}/chain/4")
    assert len(peer.hits) == 4  # the fifth request was never made


async def test_each_hop_is_guarded(monkeypatch: pytest.MonkeyPatch, connects: list[Any]) -> None:
    # Exempt one loopback address so a guarded fetcher can reach the first hop;
    # every redirect target must still pass the real guard.
    original = ssrf.is_forbidden_address
    exempt = IPv4Address("127.0.0.2")

    def guard(ip: IPv4Address | IPv6Address) -> bool:
        return ip != exempt and original(ip)

    monkeypatch.setattr(ssrf, "is_forbidden_address", guard)
    peer = await start_peer("127.0.0.2")
    client = Fetcher(allow_private=False)
    try:
        final, _ = await client.get_json(f"{peer.base}/chain/2")
        assert final == f"{peer.base}/chain/0"
        for target in (
            f"http://localhost:{peer.port}/doc",  # a name resolving to 127.0.0.1
            f"http://127.0.0.1:{peer.port}/doc",
            "http://169.254.169.254/latest/meta-data/",
            f"http://[::ffff:127.0.0.1]:{peer.port}/doc",
        ):
            connects.clear()
            peer.hits.clear()
            with pytest.raises(BlockedAddress):
                await client.get_json(f"{peer.base}/redirect?target={target}")
            assert len(peer.hits) == 1  # only the first hop reached a server
            assert all(address[0] == "127.0.0.2" for address in connects)
    finally:
        await client.close()
        await stop_peer(peer)


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"]
)
async def test_redirect_to_other_scheme_refused(peer: Peer, fetcher: Fetcher, target: str) -> None:
    with pytest.raises(InvalidUrl):
        await fetcher.get_json(f"{peer.base}/redirect?target={target}")


async def test_id_must_be_on_the_final_origin(peer: Peer, fetcher: Fetcher) -> None:
    # Served from localhost after a redirect, claiming to live on 127.0.0.1.
    claimed = f"{peer.base}/doc"
    target = f"http://localhost:{peer.port}/doc?id={quote(claimed)}"
    with pytest.raises(OriginMismatch):
        await fetcher.get_json(f"{peer.base}/redirect?target={quote(target)}")
    # Same origin, different path: accepted (FEP-fe34 compares origins).
    final, doc = await fetcher.get_json(f"{peer.base}/doc?id={peer.base}/elsewhere")
    assert doc["id"] == f"{peer.base}/elsewhere" and final.startswith(peer.base)
    with pytest.raises(OriginMismatch):
        await fetcher.get_json(f"{peer.base}/doc?id=https://other.example/x")
    # Without the check, anything goes (the caller takes responsibility).
    _, doc = await fetcher.get_json(f"{peer.base}/doc?id=https://other.example/x", check_id=False)
    assert doc["id"] == "https://other.example/x"


# -- content -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/activity+json", True),
        ("application/activity+json; charset=utf-8", True),
        (LD_AS, True),
        ('application/ld+json;profile="https://www.w3.org/ns/activitystreams";charset=utf-8', True),
        ("Application/LD+JSON", True),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/json", False),
        ("text/html; charset=utf-8", False),
        ("", False),
    ],
)
async def test_content_types(
    peer: Peer, fetcher: Fetcher, content_type: str, accepted: bool
) -> None:
    assert is_activitypub_content_type(content_type) is accepted
    url = f"{peer.base}/doc?ct={quote(content_type)}"
    if accepted:
        _, doc = await fetcher.get_json(url)
        assert doc["type"] == "Note"
    else:
        with pytest.raises(BadContentType):
            await fetcher.get_json(url)


@pytest.mark.parametrize("body", ["[1, 2]", "not json", '"a string"', '{"type": "Note"}'])
async def test_invalid_documents(peer: Peer, fetcher: Fetcher, body: str) -> None:
    with pytest.raises(InvalidDocument):
        await fetcher.get_json(f"{peer.base}/raw?body={quote(body)}")


async def test_declared_size_over_the_cap(peer: Peer) -> None:
    async with Fetcher(allow_private=True, max_bytes=100_000) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get_json(f"{peer.base}/big-declared")


async def test_streamed_size_over_the_cap(peer: Peer) -> None:
    async with Fetcher(allow_private=True, max_bytes=100_000) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get_json(f"{peer.base}/big-stream")


async def test_http_errors_carry_status_and_retry_after(peer: Peer, fetcher: Fetcher) -> None:
    with pytest.raises(HttpStatusError) as caught:
        await fetcher.get_json(f"{peer.base}/status/429?retry=120")
    assert caught.value.status == 429 and caught.value.retry_after == 120
    with pytest.raises(HttpStatusError) as caught:
        await fetcher.get_json(f"{peer.base}/status/410")
    assert caught.value.status == 410 and caught.value.retry_after is None
    assert isinstance(caught.value, FetchError) and caught.value.reason


def test_parse_retry_after() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 7200, usegmt=True), now=now) == 7200
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now=now) == 0


# -- time bounds --------------------------------------------------------------------------


async def test_read_timeout(peer: Peer) -> None:
    async with Fetcher(allow_private=True, read_timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            await client.get_json(f"{peer.base}/slow")
        assert time.monotonic() - started < 2


async def test_total_timeout_bounds_a_dribbling_body(peer: Peer) -> None:
    # Each byte arrives well within the read timeout; only the total stops it.
    async with Fetcher(allow_private=True, read_timeout=1, total_timeout=0.4) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            await client.get_json(f"{peer.base}/dribble")
        assert time.monotonic() - started < 2


async def test_post_timeout(peer: Peer) -> None:
    async with Fetcher(allow_private=True, read_timeout=0.2) as client:
        with pytest.raises(FetchTimeout):
            await client.post(f"{peer.base}/slow", b"{}", sign=None)


# -- POST, WebFinger, text --------------------------------------------------------------


async def test_post_is_signed_and_returns_status_and_text(peer: Peer, fetcher: Fetcher) -> None:
    calls: list[tuple[str, str, bytes | None]] = []
    body = b'{"type": "Follow"}'
    status, text = await fetcher.post(f"{peer.base}/inbox", body, sign=recording_signer(calls))
    assert (status, text) == (202, "accepted")
    assert calls == [("POST", f"{peer.base}/inbox", body)]
    method, path, headers, received, _ = peer.hits[0]
    assert (method, path, received) == ("POST", "/inbox", body)
    assert headers["Signature"] == f"sig for POST {peer.base}/inbox"
    assert headers["Content-Type"] == AP_CONTENT_TYPE
    assert headers["User-Agent"] == "Gapo"


async def test_post_keeps_only_two_kilobytes_and_follows_no_redirect(
    peer: Peer, fetcher: Fetcher
) -> None:
    status, text = await fetcher.post(f"{peer.base}/inbox-big", b"{}", sign=None)
    assert status == 400 and text == "e" * 2048
    status, _ = await fetcher.post(
        f"{peer.base}/redirect?target={peer.base}/inbox", b"{}", sign=lambda m, u, h, b: h
    )
    assert status == 302
    assert [path for _, path, _, _, _ in peer.hits][-1].startswith("/redirect")


async def test_connections_are_reused(peer: Peer, fetcher: Fetcher, connects: list[Any]) -> None:
    for _ in range(3):
        await fetcher.get_json(f"{peer.base}/doc")
    await fetcher.post(f"{peer.base}/inbox", b"{}", sign=None)
    assert len(connects) == 1
    assert len({hit[4] for hit in peer.hits}) == 1  # one client port for all four


async def test_get_jrd(peer: Peer, fetcher: Fetcher) -> None:
    jrd = await fetcher.get_jrd(f"{peer.base}/jrd")
    assert jrd["subject"] == "acct:u@x"
    assert "Signature" not in peer.hits[-1][2]
    jrd = await fetcher.get_jrd(f"{peer.base}/redirect?target=/jrd?ct=application/json")
    assert jrd["subject"] == "acct:u@x"
    with pytest.raises(BadContentType):
        await fetcher.get_jrd(f"{peer.base}/jrd?ct=text/html")


@pytest.mark.parametrize(
    "url", ["ftp://a.example/x", "not a url", "http:///nohost", "http://user:pw@a.example/"]
)
async def test_invalid_urls(guarded: Fetcher, url: str, connects: list[Any]) -> None:
    with pytest.raises(InvalidUrl):
        await guarded.get_json(url)
    assert connects == []


async def test_close_is_idempotent(peer: Peer) -> None:
    client = Fetcher(allow_private=True)
    await client.close()  # never opened
    await client.get_json(f"{peer.base}/doc")
    await client.close()
    await client.close()


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.0.0.1", "017700000001"])
async def test_legacy_numeric_hosts_refused_without_a_socket(
    host: str, peer: Peer, guarded: Fetcher, connects: list[Any]
) -> None:
    # getaddrinfo would map these onto 127.0.0.1; whether aiohttp rejects the
    # form or hands it to the resolver, no socket may be opened.
    with pytest.raises((BlockedAddress, InvalidUrl)):
        await guarded.get_json(f"http://{host}:{peer.port}/doc")
    assert connects == []
    assert peer.hits == []


# -- downloads (the media proxy's fetch) ------------------------------------------------


async def test_download_follows_redirects_into_a_file(
    peer: Peer, fetcher: Fetcher, tmp_path: Path
) -> None:
    dest = tmp_path / "file"
    content_type = await fetcher.download(f"{peer.base}/chain/2", dest, max_bytes=10_000)
    assert content_type == AP_CONTENT_TYPE
    assert json.loads(dest.read_bytes())["id"] == f"{peer.base}/chain/0"
    assert [path for _, path, _, _, _ in peer.hits] == ["/chain/2", "/chain/1", "/chain/0"]
    assert "Signature" not in peer.hits[0][2]  # media are fetched unsigned


@pytest.mark.parametrize("path", ["/big-declared", "/big-stream"])
async def test_download_over_the_cap_leaves_no_file(
    peer: Peer, fetcher: Fetcher, tmp_path: Path, path: str
) -> None:
    dest = tmp_path / "file"
    with pytest.raises(ResponseTooLarge):
        await fetcher.download(f"{peer.base}{path}", dest, max_bytes=100_000)
    assert not dest.exists()


async def test_download_is_guarded_and_bounded(
    peer: Peer, fetcher: Fetcher, guarded: Fetcher, connects: list[Any], tmp_path: Path
) -> None:
    dest = tmp_path / "file"
    with pytest.raises(TooManyRedirects):
        await fetcher.download(f"{peer.base}/chain/4", dest, max_bytes=10_000)
    with pytest.raises(HttpStatusError):
        await fetcher.download(f"{peer.base}/status/404", dest, max_bytes=10_000)
    with pytest.raises(InvalidUrl):
        await fetcher.download("file:///etc/passwd", dest, max_bytes=10_000)
    assert not dest.exists()
    connects.clear()
    hits = len(peer.hits)
    with pytest.raises(BlockedAddress):
        await guarded.download(f"{peer.base}/doc", dest, max_bytes=10_000)
    assert connects == [] and len(peer.hits) == hits and not dest.exists()
