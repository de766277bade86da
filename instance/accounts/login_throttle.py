"""Failed logins counted per account, so guessing one password from many addresses is slow.

The per-address limit (instance/ratelimit.py, `login_rate_per_5min`) does not stop a guesser
with many addresses: 160 wrong passwords from 8 addresses all used to get a 401. Here every
wrong password for an account counts against that account, whoever sends it; past
`login_failures_per_account_hour` (25, as Mastodon allows per email) in the last hour, a
login for it is refused with 429 and Retry-After before the password is even checked, so a
guess during the pause learns nothing.

A stranger could keep that pause going for as long as they keep guessing. So that they
cannot lock the owner out, a browser that has logged in to the account before carries a
device cookie (a random nonce and its HMAC under the instance secret, nothing else): its
attempts are counted on their own, per account and device, and never refused because of
the strangers' failures. Logging out drops the cookie, so a logged-out browser keeps nothing
that ties it to an account. The counters are keyed by HMAC (RateLimiter), in memory or, with
`GAPO_REDIS_URL`, in Redis, so they hold across processes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from instance.errors import N_, RateLimited
from instance.ratelimit import RateLimiter
from instance.shared_state import SharedState

WINDOW = 3600
DEVICE_COOKIE_LIFETIME = 365 * 86400
REFUSED = N_("Too many failed logins for this account. Try again in %(minutes)d min.")


def account_key(user_id: int | None, login: str) -> str:
    """What failures are counted under: the account, or the name tried when there is none
    (so a 429 says nothing about whether an account exists)."""
    return f"user:{user_id}" if user_id is not None else f"login:{login.strip().lower()}"


class LoginThrottle:
    def __init__(
        self,
        failures_per_hour: int,
        secret: str,
        *,
        state: SharedState | None = None,
        limiter_secret: bytes | None = None,
    ) -> None:
        """`state` and `limiter_secret` as for RateLimiter (shared with Redis)."""
        self.strangers = RateLimiter(
            failures_per_hour, WINDOW, name="login-account", state=state, secret=limiter_secret
        )
        self.devices = RateLimiter(
            failures_per_hour, WINDOW, name="login-device", state=state, secret=limiter_secret
        )
        self._secret = hmac.new(secret.encode(), b"gapo login device", hashlib.sha256).digest()

    def _mac(self, account_key: str, nonce: str) -> str:
        message = f"{account_key}\n{nonce}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def device_cookie(self, user_id: int) -> str:
        """A new device cookie value for a browser that just logged in to the account."""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._mac(account_key(user_id, ''), nonce)}"

    def _device_key(self, account_key: str, cookie: str | None) -> str | None:
        """The limiter key of a valid device cookie for this account, else None."""
        if not cookie or len(cookie) > 100 or "." not in cookie:
            return None
        nonce, mac = cookie.split(".", 1)
        if not hmac.compare_digest(mac, self._mac(account_key, nonce)):
            return None
        return f"{account_key}\n{nonce}"

    def _limiter_and_key(self, account_key: str, cookie: str | None) -> tuple[RateLimiter, str]:
        device = self._device_key(account_key, cookie)
        return (self.devices, device) if device else (self.strangers, account_key)

    async def check(self, account_key: str, cookie: str | None) -> None:
        """Raises RateLimited (429, Retry-After, minutes in the message) during a pause."""
        limiter, key = self._limiter_and_key(account_key, cookie)
        try:
            await limiter.check(key)
        except RateLimited as exc:
            seconds = exc.retry_after or WINDOW
            raise RateLimited(
                REFUSED, retry_after=seconds, minutes=max(1, -(-seconds // 60))
            ) from None

    async def failed(self, account_key: str, cookie: str | None) -> None:
        limiter, key = self._limiter_and_key(account_key, cookie)
        await limiter.record(key)
