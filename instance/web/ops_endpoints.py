"""`/health` and `/metrics`, answered in front of everything else, and the request counters.

The outermost ASGI middleware: a load balancer's probe costs no session, no cookie, no
page hook and no template (nothing of Quart runs for it), and every other request is timed
from its arrival to its last byte, whichever layer answers it (the document fast path, the
guards, Quart).

`/health` (GET or HEAD): 200 when this process can serve, i.e. its services are open and
the database answers a read; else 503 with Retry-After. `/metrics`: the Prometheus text
format, only to a request carrying `Authorization: Bearer <GAPO_METRICS_TOKEN>`; without a
token set it is 404, like any unknown path (the figures say how busy the instance is and
which peers fail: an operator's business, not the public's). Any other method on these
paths goes to Quart, which answers 405 as for every route.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from instance.config import Settings
from instance.redis_state import RedisState
from instance.services import Services
from instance.web.body_guard import ASGIApp, Receive, Scope, Send
from instance.web.prometheus_text import CONTENT_TYPE, Exposition
from instance.web.request_metrics import RequestMetrics

HEALTH = "/health"
METRICS = "/metrics"
# What a load balancer is told to wait before asking an unready process again.
RETRY_AFTER = 5
_NO_STORE = (b"cache-control", b"no-store")


class OpsEndpoints:
    """Wraps an ASGI app; `services` gives the process's services once they are open."""

    def __init__(
        self, app: ASGIApp, services: Callable[[], Services | None], settings: Settings
    ) -> None:
        self.app = app
        self.services = services
        self._token = settings.metrics_token.encode()
        self.requests = RequestMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope.get("method") in ("GET", "HEAD") and not scope.get("root_path"):
            if path == HEALTH:
                await self._answer(send, *await self._health())
                return
            if path == METRICS:
                await self._answer(send, *await self._metrics(scope))
                return
        await self._timed(scope, receive, send)

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = 500  # what the server sends when the app fails before it answers

        async def counting_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.requests.observe(status, time.perf_counter() - start)

    @staticmethod
    async def _answer(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode()), _NO_STORE]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _health(self) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        services = self.services()
        ready = services is not None and await services.operations.ready()
        body = json.dumps({"status": "ok" if ready else "unavailable"}).encode()
        headers = [(b"content-type", b"application/json")]
        if ready:
            return 200, headers, body
        return 503, [*headers, (b"retry-after", str(RETRY_AFTER).encode())], body

    async def _metrics(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        text = [(b"content-type", b"text/plain; charset=utf-8")]
        if not self._token:
            return 404, text, b"Not Found\n"
        if not self._authorized(scope):
            return 401, [*text, (b"www-authenticate", b"Bearer")], b"Unauthorized\n"
        services = self.services()
        if services is None:
            return 503, [*text, (b"retry-after", str(RETRY_AFTER).encode())], b"Starting\n"
        out = Exposition()
        self.requests.write(out)
        await _write_figures(out, services)
        return 200, [(b"content-type", CONTENT_TYPE.encode())], out.render()

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token):
                    return True
        return False


async def _write_figures(out: Exposition, services: Services) -> None:
    figures = await services.operations.figures()
    out.family(
        "gapo_jobs",
        "gauge",
        "Jobs waiting (queued) or held by a runner (running), by kind, for the whole instance.",
        (({"kind": kind, "state": state}, n) for (kind, state), n in sorted(figures.queue.items())),
    )
    out.family(
        "gapo_deliveries",
        "gauge",
        "Deliveries in the job table by outcome (done and dead ones kept retain_jobs_days).",
        (({"outcome": outcome}, n) for outcome, n in sorted(figures.deliveries.items())),
    )
    out.family(
        "gapo_failing_hosts",
        "gauge",
        "Remote hosts failing deliveries, by circuit breaker state.",
        (({"state": state}, n) for state, n in sorted(figures.failing_hosts.items())),
    )
    shared = services.shared
    if isinstance(shared, RedisState):
        out.family(
            "gapo_redis_up",
            "gauge",
            "1 while this process uses Redis, 0 while it holds limits in memory after a failure.",
            [({}, 1 if shared.available else 0)],
        )
        out.family(
            "gapo_redis_fallbacks_total",
            "counter",
            "Limit and cache calls this process answered from memory because Redis failed.",
            [({}, shared.failures)],
        )
