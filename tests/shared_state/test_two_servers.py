"""Two real `gapo serve` processes on one data dir and one Redis: a login limit holds across
them, Redis keeps no address, and each process's /health and /metrics answer."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from redis import Redis

from tests.helpers.processes import running_server
from tests.helpers.redis_server import RedisServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORWARDED = "198.51.100.23"  # the client as the trusted proxy reports it


def _wrong_login(base_url: str) -> int:
    """A login with a wrong password from FORWARDED through `base_url`; its status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    headers = {"X-Forwarded-For": FORWARDED}
    with opener.open(urllib.request.Request(base_url + "/login", headers=headers)) as page:
        token = CSRF.search(page.read().decode())
    assert token
    form = {"login": "nobody", "password": "wrong wrong", "csrf_token": token.group(1)}
    request = urllib.request.Request(
        base_url + "/login", data=urllib.parse.urlencode(form).encode(), headers=headers
    )
    try:
        with opener.open(request) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_two_servers_share_one_limit(tmp_path: Path, redis: RedisServer) -> None:
    """Attempts alternate between two processes; the fifth is refused by either, as the
    limit of four says, and every key left in Redis has a TTL and no address."""
    data_dir = tmp_path / "data"
    env = {
        "GAPO_REDIS_URL": redis.url,
        # Sharing is what this tests: a loaded machine's slow answer must not fall back.
        "GAPO_REDIS_TIMEOUT_MS": "5000",
        "GAPO_LOGIN_RATE_PER_5MIN": "4",
        "GAPO_TRUSTED_PROXIES": "1",
        "GAPO_METRICS_TOKEN": "scrape",
    }
    with running_server(data_dir, **env) as one, running_server(data_dir, **env) as two:
        statuses = [_wrong_login(server.base_url) for server in (one, two, one, two)]
        assert statuses == [401, 401, 401, 401]
        assert _wrong_login(one.base_url) == 429
        assert _wrong_login(two.base_url) == 429
        for server in (one, two):
            with urllib.request.urlopen(server.base_url + "/health") as reply:
                assert reply.status == 200
            scrape = urllib.request.Request(
                server.base_url + "/metrics", headers={"Authorization": "Bearer scrape"}
            )
            with urllib.request.urlopen(scrape) as reply:
                text = reply.read().decode()
            assert 'gapo_http_requests_total{status="401"} 2' in text
            assert "gapo_redis_up 1" in text

    client = Redis.from_url(redis.url, decode_responses=True)
    try:
        keys = list(client.scan_iter("*"))
        assert keys
        for key in keys:
            assert client.pttl(key) > 0
            assert FORWARDED not in key and "127.0.0.1" not in key
            if client.type(key) == "zset":
                for member in client.zrange(key, 0, -1):
                    assert FORWARDED not in member
    finally:
        client.close()
