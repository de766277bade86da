"""The access log line (when switched on): no address, agent, referrer, query or cookie."""

from __future__ import annotations

import logging

from hypercorn.config import Config

from instance.access_log import PrivateAccessLogger, printable_path


def test_access_line_names_no_client(caplog) -> None:
    """Whatever the request carried, the line is method, path, status, size and time."""
    config = Config()
    config.accesslog = logging.getLogger("test.access")
    # Even an admin's format asking for the address gets Gapo's fixed line instead.
    config.access_log_format = '%(h)s "%(r)s" %(a)s'
    logger = PrivateAccessLogger(config)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/search\r\nforged line",
        "query_string": b"q=%40qzx%40example.org",
        "client": ("203.0.113.9", 50000),
        "scheme": "https",
        "http_version": "1.1",
        "headers": [
            (b"user-agent", b"QzxAgent/1"),
            (b"cookie", b"gapo_session=qzxsecret"),
            (b"referer", b"https://example.org/?qzxref"),
            (b"x-forwarded-for", b"198.51.100.4"),
        ],
    }
    response = {"status": 200, "headers": [(b"content-length", b"123")]}
    with caplog.at_level(logging.INFO, logger="test.access"):
        import asyncio

        asyncio.run(logger.access(scope, response, 0.25))  # type: ignore[arg-type]
    [line] = [r.getMessage() for r in caplog.records]
    assert "GET /search\\r\\nforged line 200 123 0.250000s" in line
    for secret in ("203.0.113", "198.51.100", "QzxAgent", "qzxsecret", "qzxref", "q=", "%40"):
        assert secret not in line


def test_printable_path_escapes_controls() -> None:
    assert printable_path("/a\tb\x00c") == "/a\\tb\\x00c"
    assert printable_path("/" + "x" * 600).endswith("…")
