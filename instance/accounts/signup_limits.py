"""Sign-ups per client address: counted when an account is made, not when one is tried.

Vietnamese mobile networks put thousands of phones behind one carrier-grade NAT address,
so a per-address limit must allow many people and must not be used up by their typos: a
refused sign-up (name taken, weak password, a 503 from the surge guard) costs nothing. The
surge itself is met by load shedding (instance/pools.py, docs/overload.md), not by this
limit. Counting only successes lets concurrent sign-ups from one address pass the check
together, so the limit can be exceeded by the number in flight at once; that is a few,
against a default of 100 an hour, and acceptable for an abuse limit.

With `GAPO_REDIS_URL` the count is shared by every process (instance/shared_state.py).
"""

from __future__ import annotations

from instance.errors import N_, RateLimited
from instance.ratelimit import RateLimiter
from instance.shared_state import SharedState

WINDOW = 3600
REFUSED = N_(
    "Many accounts were made from your network in the last hour. Try again in %(minutes)d min."
)


class SignupLimits:
    def __init__(
        self, per_hour: int, *, state: SharedState | None = None, secret: bytes | None = None
    ) -> None:
        """`state` and `secret` as for RateLimiter (shared with Redis)."""
        self._made = RateLimiter(per_hour, WINDOW, name="signup", state=state, secret=secret)

    async def check(self, address: str) -> None:
        """Raises RateLimited (429, Retry-After, the wait in minutes) when `address` is full."""
        try:
            await self._made.check(address)
        except RateLimited as exc:
            seconds = exc.retry_after or WINDOW
            raise RateLimited(
                REFUSED, retry_after=seconds, minutes=max(1, -(-seconds // 60))
            ) from None

    async def made(self, address: str) -> None:
        """Count one account made from `address`."""
        await self._made.record(address)
