"""Sign-up and log-in POSTs refused before they are parsed when hashing would make them wait.

Both hash a password (argon2id, ~20 ms of a core). Under a surge the password pool's
estimate says at once whether a new one would be done within the bound
(instance/admission.py). Refused inside Quart, a request had first cost the event loop its
body, form parsing, session and CSRF checks and a re-rendered form page: ~4 ms of the single
event-loop thread each, which with 200 clients in a loop was most of what the loop did, and
every page (GET /) and every admitted sign-up waited behind it (docs/overload.md). Here, in
front of Quart, a refusal is one short answer: `503` with the Retry-After of the estimate,
in the client's language, the connection closed as the body guard does (the body is not
read). An admitted request holds its place in the pool until it is answered
(`BoundedPool.for_request`): its hash runs on that place, and the requests arriving after it
are counted against it from the start.
"""

from __future__ import annotations

from collections.abc import Callable

from instance.errors import Overloaded
from instance.pools import BoundedPool
from instance.web.body_guard import ASGIApp, Receive, Scope, Send, respond

# The forms whose handling starts with a hash or a verification.
HASHING_POSTS = frozenset({"/signup", "/login"})


class HashAdmission:
    """Wraps an ASGI app; `pool` gives the password pool once the services are open."""

    def __init__(self, app: ASGIApp, pool: Callable[[], BoundedPool | None]) -> None:
        self.app = app
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path") in HASHING_POSTS
        ):
            pool = self.pool()
            if pool is not None:
                wait = pool.refusal_now()
                if wait is not None:
                    await respond(scope, send, 503, Overloaded.message, retry_after=str(wait))
                    return
                # Nothing ran since the look above: the place is admitted as it said.
                with pool.for_request():
                    await self.app(scope, receive, send)
                return
        await self.app(scope, receive, send)
