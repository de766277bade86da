"""The access log, when an admin switches it on: method, path, status, size and time only.

Hypercorn's own access log writes the client's address, its user agent, the referrer and
the query string (a search for `@someone@host` beside the searcher's address). Gapo's line
has none of them, whatever format is configured: the atoms they would come from are never
built. The path is kept (it names a page, not a person) with control characters escaped,
so a crafted URL cannot forge log lines.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hypercorn.logging import Logger

if TYPE_CHECKING:
    from hypercorn.config import Config
    from hypercorn.typing import ResponseSummary, WWWScope

ACCESS_LOG_FORMAT = "%(t)s %(m)s %(U)s %(s)s %(b)s %(L)ss"


def printable_path(path: str, limit: int = 500) -> str:
    """The path with control characters (and backslashes) escaped, cut to `limit`."""
    escaped = path[:limit].encode("unicode_escape").decode("ascii")
    return escaped + ("…" if len(path) > limit else "")


class PrivateAccessLogger(Logger):
    """Hypercorn's logger with an access line that cannot name the client."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.access_log_format = ACCESS_LOG_FORMAT

    def atoms(
        self, request: WWWScope, response: ResponseSummary | None, request_time: float
    ) -> Mapping[str, str]:
        status = "-" if response is None else str(response["status"])
        size = "-"
        if response is not None:
            for name, value in response.get("headers", []):
                if name.lower() == b"content-length":
                    size = value.decode("latin-1")
        return {
            "t": time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),
            "m": request.get("method", "GET") if request["type"] == "http" else "GET",
            "U": printable_path(request["path"]),
            "s": status,
            "b": size,
            "L": f"{request_time:.6f}",
        }
