"""Delivery rules without I/O: which inboxes to POST to, when to retry, when to stop trying.

The job runner in ``instance/`` does the signing and the POSTs; it asks this module how to
read a response (:func:`classify_response`), when the next attempt is due
(:func:`retry_delay`) and whether a host is worth trying at all (:class:`HostHealth`,
stored by the caller as a row via ``to_dict``/``from_dict``). Times are UTC epoch seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

# --- recipients ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecipientInboxes:
    """A recipient's inboxes as its actor document lists them (either may be missing)."""

    inbox: str | None
    shared_inbox: str | None = None


def inboxes_for(recipients: Iterable[RecipientInboxes]) -> list[str]:
    """One entry per distinct inbox, the shared inbox whenever a recipient has one.

    Order is that of first appearance, so a delivery fan-out is reproducible; empty and
    missing inboxes are skipped (an actor without an inbox cannot be delivered to).
    """
    seen: dict[str, None] = {}  # an insertion-ordered set
    for recipient in recipients:
        target = recipient.shared_inbox or recipient.inbox
        if target:
            seen.setdefault(target, None)
    return list(seen)


# --- retry schedule ------------------------------------------------------------------------

MAX_ATTEMPTS: Final = 16
"""Retries after the first POST, as Mastodon's delivery worker (``retry: 16``)."""

_BASE_DELAY: Final = 15.0
_PROPORTIONAL_JITTER: Final = 0.5
_LINEAR_JITTER: Final = 30.0

# A module-level generator: jitter only spreads retries out, it protects no secret.
_DEFAULT_RNG: Final = random.Random()  # noqa: S311


def retry_delay_bounds(attempt: int) -> tuple[float, float]:
    """The smallest and largest delay :func:`retry_delay` can return for ``attempt``."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0 (got {attempt})")
    base = attempt**4 + _BASE_DELAY
    return base, base + _PROPORTIONAL_JITTER * attempt**4 + _LINEAR_JITTER * (attempt + 1)


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = the first retry).

    ``attempt**4 + 15`` plus jitter, the shape of Sidekiq's default back-off that
    Mastodon's ``ActivityPub::DeliveryWorker`` builds on. The jitter has two parts, as
    there: up to half the base (Mastodon's own ``rand(0.5 * count**4)``, which keeps late
    retries to a dead host from arriving in lock-step) plus up to ``30 * (attempt + 1)``
    (Sidekiq's per-attempt jitter).

    Over the :data:`MAX_ATTEMPTS` = 16 retries (attempts 0..15) the delays add up to
    178,552 s (2.07 days) with no jitter, 271,788 s (3.15 days) with all jitter at its
    maximum, about 225,000 s (2.6 days) on average.
    """
    low, high = retry_delay_bounds(attempt)
    rng = rng or _DEFAULT_RNG
    return low + rng.random() * (high - low)


# --- responses -----------------------------------------------------------------------------

Outcome = Literal["ok", "retry", "permanent", "retry_other_signature"]


def classify_response(status: int) -> Outcome:
    """What a delivery POST's status code means for the job.

    401 asks for the other signature scheme (RFC 9421 ↔ draft-cavage), see INTEROP.md.
    408 and 429 are the 4xx that say "later", not "never". Redirects are retried, not
    followed: re-POSTing a signed body to another URL would not match its signature, and
    a moved inbox shows up in the actor document soon enough. Anything unexpected (1xx,
    nonsense codes) is retried rather than dropped: losing a post is the worse mistake.
    """
    if 200 <= status < 300:
        return "ok"
    if status == 401:
        return "retry_other_signature"
    if status in (408, 429):
        return "retry"
    if 400 <= status < 500:
        return "permanent"
    return "retry"


# --- per-host health -----------------------------------------------------------------------

BREAKER_THRESHOLD: Final = 5
"""Consecutive failures that open a host's breaker."""
BREAKER_BASE_COOLDOWN: Final = 60.0
BREAKER_MAX_COOLDOWN: Final = 3600.0
PROBE_TIMEOUT: Final = 60.0
"""How long a claimed half-open probe keeps other workers away before another may try."""
UNAVAILABLE_AFTER_DAYS: Final = 7
"""Distinct UTC days with failures (and no success since) that mark a host unavailable."""

_SECONDS_PER_DAY: Final = 86_400
_FORMAT_VERSION: Final = 1

BreakerState = Literal["closed", "open", "half_open"]


def _utc_day(now: float) -> int:
    # Epoch seconds count from UTC midnight, so whole days since the epoch are UTC dates.
    return int(now // _SECONDS_PER_DAY)


@dataclass(slots=True)
class HostHealth:
    """One remote host's delivery health: a circuit breaker and Mastodon's "unavailable" rule.

    The breaker opens after :data:`BREAKER_THRESHOLD` consecutive failures, for a cooldown
    that starts at one minute and doubles (up to an hour) each time a half-open probe
    fails. A host with failures on :data:`UNAVAILABLE_AFTER_DAYS` different UTC days and
    no success since is unavailable: deliveries to it are skipped, not queued, until a
    success or any inbound activity from it (:meth:`clear`).
    """

    consecutive_failures: int = 0
    open_until: float | None = None
    cooldown: float = 0.0
    probing: bool = False
    failure_days: list[int] = field(default_factory=list)
    last_success_at: float | None = None
    last_failure_at: float | None = None

    # -- events --

    def success(self, now: float) -> None:
        """A delivery to the host succeeded: everything is forgiven."""
        self._reset()
        self.last_success_at = now

    def failure(self, now: float) -> None:
        """A delivery failed in a way that counts against the host (timeouts, 5xx, …)."""
        self.consecutive_failures += 1
        self.last_failure_at = now
        day = _utc_day(now)
        if day not in self.failure_days:
            self.failure_days.append(day)
            # Only the count matters and it stops mattering at the threshold: keep the row small.
            del self.failure_days[:-UNAVAILABLE_AFTER_DAYS]
        if self.consecutive_failures < BREAKER_THRESHOLD:
            return
        if self.open_until is None:
            self.cooldown = BREAKER_BASE_COOLDOWN
            self.open_until = now + self.cooldown
        elif self.probing or now >= self.open_until:
            # The half-open probe failed: back off harder.
            self.cooldown = min(self.cooldown * 2, BREAKER_MAX_COOLDOWN)
            self.open_until = now + self.cooldown
            self.probing = False
        # Otherwise a request that started before the breaker opened has just failed too;
        # it says nothing new, so the cooldown stays as it is.

    def clear(self) -> None:
        """The host sent us an activity, so it is alive: close the breaker, forget failures."""
        self._reset()

    def _reset(self) -> None:
        self.consecutive_failures = 0
        self.open_until = None
        self.cooldown = 0.0
        self.probing = False
        self.failure_days.clear()

    # -- questions --

    def state(self, now: float) -> BreakerState:
        if self.open_until is None:
            return "closed"
        return "open" if now < self.open_until else "half_open"

    def is_open(self, now: float) -> bool:
        """True while deliveries to the host should wait (the breaker is open)."""
        return self.state(now) == "open"

    def allow_request(self, now: float) -> bool:
        """May a delivery go out now? In half-open state the first caller claims the probe.

        Claiming pushes ``open_until`` by :data:`PROBE_TIMEOUT`, so other workers keep
        waiting until the probe reports back (or is presumed lost).
        """
        state = self.state(now)
        if state == "closed":
            return True
        if state == "open":
            return False
        self.probing = True
        self.open_until = now + PROBE_TIMEOUT
        return True

    def unavailable(self, now: float) -> bool:
        """Mastodon's rule: failures on at least 7 distinct UTC days, no success since.

        The state does not decay with time, only with a success or :meth:`clear`, so
        ``now`` does not change the answer; it is taken so that callers need not change
        should the rule ever gain an expiry.
        """
        return len(self.failure_days) >= UNAVAILABLE_AFTER_DAYS

    # -- storage --

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for the caller's database row."""
        return {
            "v": _FORMAT_VERSION,
            "consecutive_failures": self.consecutive_failures,
            "open_until": self.open_until,
            "cooldown": self.cooldown,
            "probing": self.probing,
            "failure_days": list(self.failure_days),
            "last_success_at": self.last_success_at,
            "last_failure_at": self.last_failure_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostHealth:
        """The inverse of :meth:`to_dict`; missing keys take their defaults.

        Raises ValueError on a value of the wrong type or an unknown format version, so a
        corrupt row is reported rather than silently read as "healthy".
        """
        version = data.get("v", _FORMAT_VERSION)
        if version != _FORMAT_VERSION:
            raise ValueError(f"unknown HostHealth format version {version!r}")
        days = data.get("failure_days", [])
        if not isinstance(days, list) or not all(_is_int(d) for d in days):
            raise ValueError("failure_days must be a list of integers")
        return cls(
            consecutive_failures=_int(data, "consecutive_failures", 0),
            open_until=_optional_number(data, "open_until"),
            cooldown=_number(data, "cooldown", 0.0),
            probing=_bool(data, "probing"),
            failure_days=list(days),
            last_success_at=_optional_number(data, "last_success_at"),
            last_failure_at=_optional_number(data, "last_failure_at"),
        )


def _is_int(value: object) -> bool:
    # bool is an int subclass; True is not a day number.
    return isinstance(value, int) and not isinstance(value, bool)


def _int(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if not _is_int(value) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer (got {value!r})")
    return int(value)


def _number(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number (got {value!r})")
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    if data.get(key) is None:
        return None
    return _number(data, key, 0.0)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a boolean (got {value!r})")
    return value
