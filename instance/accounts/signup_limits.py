"""Sign-ups per client address: counted when an account is made, not when one is tried.

Vietnamese mobile networks put thousands of phones behind one carrier-grade NAT address,
so a per-address limit must allow many people and must not be used up by their typos: a
refused sign-up (name taken, weak password, a 503 from the surge guard) costs nothing. The
surge itself is met by load shedding (instance/pools.py, docs/overload.md), not by this
limit. Counting only successes lets concurrent sign-ups from one address pass the check
together, so the limit can be exceeded by the number in flight at once; that is a few,
against a default of 100 an hour, and acceptable for an abuse limit.
"""

from __future__ import annotations

from instance.errors import N_, RateLimited
from instance.ratelimit import RateLimiter

WINDOW = 3600
REFUSED = N_(
    "Many accounts were made from your network in the last hour. Try again in %(minutes)d min."
)


class SignupLimits:
    def __init__(self, per_hour: int) -> None:
        self._made = RateLimiter(per_hour, WINDOW)

    def check(self, address: str) -> None:
        """Raises RateLimited (429, Retry-After, the wait in minutes) when `address` is full."""
        try:
            self._made.check(address)
        except RateLimited as exc:
            seconds = exc.retry_after or WINDOW
            raise RateLimited(
                REFUSED, retry_after=seconds, minutes=max(1, -(-seconds // 60))
            ) from None

    def made(self, address: str) -> None:
        """Count one account made from `address`."""
        self._made.record(address)
