"""No client address, user agent or search query at rest: a real `gapo serve`, then every byte.

A person signs up, logs in (once wrongly), posts and searches from a marked address with a
marked user agent, through a trusted proxy header too; afterwards neither the data directory
(database, WAL and SHM files, secrets, media: raw bytes) nor the server's output holds the
address, the user agent or what was searched. With the access log off and on.
"""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.migrations import apply_up_to
from tests.helpers.processes import running_server

# Loopback is all of 127.0.0.0/8 on Linux: the client connects from this distinctive source.
MARKED_IP = "127.83.47.91"
# Believed through X-Forwarded-For when the server trusts one proxy.
FORWARDED_IP = "198.51.100.77"
MARKED_AGENT = "QzxMarkedAgent/7.3 (Kestrel 4412)"
# Searched for: one remote handle (refused by the address guard, so its failure is logged
# somewhere if anything is), one on this very instance.
REMOTE_QUERY = "@qzxsought@localhost:9"
PASSWORD = "a good long passphrase"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class MarkedClient:
    """A browser-like client: cookies, the marked user agent, from the marked address."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()

        class FromMarkedAddress(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                connect = functools.partial(
                    http.client.HTTPConnection, source_address=(MARKED_IP, 0)
                )
                return self.do_open(connect, req)  # type: ignore[arg-type]

        self.opener = urllib.request.build_opener(
            FromMarkedAddress(), urllib.request.HTTPCookieProcessor(self.jar)
        )

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, final URL and body; redirects are followed as a browser would."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            headers={"User-Agent": MARKED_AGENT, "X-Forwarded-For": FORWARDED_IP},
        )
        try:
            with self.opener.open(req, timeout=30) as reply:
                return reply.status, reply.url, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode()

    def submit(self, form_page: str, path: str, form: dict[str, str]) -> tuple[int, str, str]:
        """A form of `form_page` sent to `path` with that page's CSRF token."""
        _, _, body = self.request(form_page)
        match = CSRF_RE.search(body)
        assert match, f"no CSRF token on {form_page}"
        return self.request(path, {**form, "csrf_token": match.group(1)})


def every_byte(data_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


def marks(server_host: str) -> list[str]:
    local_query = f"@qzxnobody@{server_host}"
    quoted = [urllib.parse.quote(q, safe="") for q in (REMOTE_QUERY, local_query)]
    names = ["QzxMarkedAgent", "qzxsought", "qzxnobody"]
    return [MARKED_IP, FORWARDED_IP, MARKED_AGENT, *names, *quoted]


@pytest.mark.parametrize("access_log", ["0", "1"])
def test_nothing_of_the_client_is_kept(tmp_path: Path, access_log: str) -> None:
    """Sign-up, a failed and a good log-in, a post and two searches from a marked address and
    user agent leave no trace of address, agent or query in the data dir or the output."""
    data_dir = tmp_path / "data"
    with running_server(data_dir, GAPO_ACCESS_LOG=access_log, GAPO_TRUSTED_PROXIES="1") as server:
        host = urllib.parse.urlsplit(server.base_url).netloc
        client = MarkedClient(server.base_url)
        status, url, _ = client.submit(
            "/signup",
            "/signup",
            {"username": "thu", "email": "thu@example.org", "password": PASSWORD},
        )
        assert status == 200 and url.endswith("/home")
        assert client.submit("/", "/logout", {})[0] == 200
        wrong = client.submit("/login", "/login", {"login": "thu", "password": "not it at all"})
        assert wrong[0] == 401
        status, _, body = client.submit("/login", "/login", {"login": "thu", "password": PASSWORD})
        assert status == 200 and "Log out" in body
        status, url, _ = client.submit(
            "/home", "/posts", {"text": "Chào cả nhà", "visibility": "public"}
        )
        assert status == 200 and "/p/" in url
        for query in (REMOTE_QUERY, f"@qzxnobody@{host}"):
            status, _, body = client.request("/search?" + urllib.parse.urlencode({"q": query}))
            assert status == 200 and "No account matches that search." in body
    output = server.output
    if access_log == "1":
        # The log is on and works: the search was logged, by its path only.
        assert re.search(r"GET /search 200", output), output
        assert "POST /login 302" in output
    else:
        assert "GET /search" not in output
    files = every_byte(data_dir)
    assert any(p.name.endswith("-wal") for p in files) or any(p.suffix == ".sqlite3" for p in files)
    # The scan does see what was written: the post is there.
    assert any("Chào cả nhà".encode() in content for content in files.values())
    session = next(c.value for c in client.jar if c.name == "gapo_session")
    assert session not in output
    assert not any(session.encode() in content for content in files.values())
    for mark in marks(host):
        assert mark not in output, f"{mark!r} in the server's output"
        for path, content in files.items():
            assert mark.encode() not in content, f"{mark!r} in {path.relative_to(data_dir)}"


async def test_migration_wipes_addresses_already_stored(tmp_path: Path) -> None:
    """Sessions written before 0006 lose their address and user agent, in every file of the
    data dir (free pages and old WAL frames too), and keep working otherwise."""
    import sqlite3

    from instance.db.migrate import migrate
    from instance.db.sqlite import enable_wal

    path = tmp_path / "data" / "gapo.sqlite3"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    await enable_wal(path)
    apply_up_to(url, "0005_relationships_media")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for n in range(200):
            conn.execute(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at,"
                " expires_at, ip, user_agent) VALUES (?, ?, 1, 0, 0, 4000000000, ?, ?)",
                (n, f"hash{n}", f"{MARKED_IP}", f"{MARKED_AGENT} #{n}"),
            )
    finally:
        conn.close()
    assert any(MARKED_IP.encode() in c for c in every_byte(path.parent).values())

    applied = await migrate(url, path)

    assert applied[0] == "0006_sessions_without_addresses"
    for name, content in every_byte(path.parent).items():
        assert MARKED_IP.encode() not in content, name
        assert b"QzxMarkedAgent" not in content, name
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sessions WHERE device = ''").fetchone()[0] == 200
    finally:
        conn.close()
