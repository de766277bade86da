"""Delivery rules: inbox dedupe, the retry schedule, response classes, per-host health."""

from __future__ import annotations

import json
import random

import pytest

from activitypub.delivery import (
    BREAKER_BASE_COOLDOWN,
    BREAKER_MAX_COOLDOWN,
    BREAKER_THRESHOLD,
    MAX_ATTEMPTS,
    PROBE_TIMEOUT,
    HostHealth,
    RecipientInboxes,
    classify_response,
    inboxes_for,
    retry_delay,
    retry_delay_bounds,
)

DAY = 86_400.0
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class FixedRandom(random.Random):
    """A generator stuck at one value of random(), to pin the jitter to its min or max."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


# --- inboxes -------------------------------------------------------------------------------


def test_inboxes_prefer_shared_and_dedupe_in_order() -> None:
    recipients = [
        RecipientInboxes("https://a.example/users/1/inbox", "https://a.example/inbox"),
        RecipientInboxes("https://b.example/users/1/inbox", None),
        RecipientInboxes("https://a.example/users/2/inbox", "https://a.example/inbox"),
        RecipientInboxes(None, None),
        RecipientInboxes("", ""),
        RecipientInboxes(None, "https://c.example/inbox"),
        RecipientInboxes("https://b.example/users/1/inbox", None),
        RecipientInboxes("https://b.example/users/2/inbox"),
    ]
    assert inboxes_for(recipients) == [
        "https://a.example/inbox",
        "https://b.example/users/1/inbox",
        "https://c.example/inbox",
        "https://b.example/users/2/inbox",
    ]


def test_inboxes_accept_any_iterable_and_empty() -> None:
    assert inboxes_for([]) == []
    gen = (RecipientInboxes(f"https://h.example/u/{i}/inbox") for i in range(3))
    assert inboxes_for(gen) == [f"https://h.example/u/{i}/inbox" for i in range(3)]


def test_recipient_inboxes_is_frozen() -> None:
    recipient = RecipientInboxes("https://a.example/inbox")
    with pytest.raises(AttributeError):
        recipient.inbox = "x"  # type: ignore[misc]


# --- retry schedule ------------------------------------------------------------------------


def schedule_total(rng: random.Random) -> float:
    return sum(retry_delay(attempt, rng=rng) for attempt in range(MAX_ATTEMPTS))


@pytest.mark.parametrize("value", [0.0, 0.999999999, 0.5])
def test_schedule_total_is_two_to_three_and_a_half_days(value: float) -> None:
    total = schedule_total(FixedRandom(value))
    assert 2 * DAY <= total <= 3.5 * DAY


def test_schedule_totals_match_the_docstring() -> None:
    assert schedule_total(FixedRandom(0.0)) == 178_552
    assert schedule_total(FixedRandom(1.0)) == 271_788
    assert "178,552" in (retry_delay.__doc__ or "")
    assert "271,788" in (retry_delay.__doc__ or "")


def test_delay_shape() -> None:
    assert retry_delay(0, rng=FixedRandom(0.0)) == 15
    assert retry_delay(3, rng=FixedRandom(0.0)) == 3**4 + 15
    assert retry_delay(3, rng=FixedRandom(1.0)) == 3**4 + 15 + 0.5 * 3**4 + 30 * 4
    # Grows with every attempt, whatever the jitter.
    for attempt in range(1, MAX_ATTEMPTS):
        assert retry_delay_bounds(attempt)[0] > retry_delay_bounds(attempt - 1)[0]


def test_default_random_stays_in_bounds() -> None:
    for attempt in range(MAX_ATTEMPTS):
        low, high = retry_delay_bounds(attempt)
        for _ in range(20):
            assert low <= retry_delay(attempt) <= high


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - jitter, not secrets


def test_seeded_rng_is_reproducible() -> None:
    first = [retry_delay(a, rng=seeded(7)) for a in range(MAX_ATTEMPTS)]
    second = [retry_delay(a, rng=seeded(7)) for a in range(MAX_ATTEMPTS)]
    assert first == second


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError):
        retry_delay(-1)


# --- responses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "ok"),
        (201, "ok"),
        (202, "ok"),
        (204, "ok"),
        (299, "ok"),
        (401, "retry_other_signature"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
        (599, "retry"),
        (400, "permanent"),
        (403, "permanent"),
        (404, "permanent"),
        (405, "permanent"),
        (410, "permanent"),
        (413, "permanent"),
        (422, "permanent"),
        (499, "permanent"),
        (301, "retry"),
        (302, "retry"),
        (307, "retry"),
        (308, "retry"),
        (100, "retry"),
        (0, "retry"),
        (700, "retry"),
    ],
)
def test_classify_response(status: int, expected: str) -> None:
    assert classify_response(status) == expected


# --- breaker -------------------------------------------------------------------------------


def fail(health: HostHealth, times: int, now: float) -> None:
    for _ in range(times):
        health.failure(now)


def test_breaker_opens_after_consecutive_failures() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD - 1, T0)
    assert health.state(T0) == "closed"
    assert not health.is_open(T0)
    health.failure(T0)
    assert health.state(T0) == "open"
    assert health.is_open(T0 + BREAKER_BASE_COOLDOWN - 1)
    assert not health.allow_request(T0 + 1)


def test_a_success_resets_the_count() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD - 1, T0)
    health.success(T0)
    fail(health, BREAKER_THRESHOLD - 1, T0)
    assert not health.is_open(T0)


def test_half_open_probe_success_closes() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD, T0)
    later = T0 + BREAKER_BASE_COOLDOWN
    assert health.state(later) == "half_open"
    assert not health.is_open(later)
    assert health.allow_request(later)  # this caller claims the probe...
    assert not health.allow_request(later)  # ...so the next one waits
    assert health.is_open(later + PROBE_TIMEOUT - 1)
    health.success(later + 1)
    assert health.state(later + 1) == "closed"
    assert health.allow_request(later + 1)


def test_half_open_probe_failure_doubles_the_cooldown_up_to_an_hour() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD, T0)
    now = T0
    expected = BREAKER_BASE_COOLDOWN
    cooldowns = []
    for _ in range(10):
        now = health.open_until or now
        assert health.allow_request(now)
        health.failure(now + 1)
        expected = min(expected * 2, BREAKER_MAX_COOLDOWN)
        assert health.cooldown == expected
        assert health.open_until == now + 1 + expected
        cooldowns.append(health.cooldown)
    assert cooldowns[:3] == [120, 240, 480]
    assert cooldowns[-1] == BREAKER_MAX_COOLDOWN == 3600


def test_failure_after_the_cooldown_without_a_claimed_probe_also_backs_off() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD, T0)
    health.failure(T0 + BREAKER_BASE_COOLDOWN + 5)
    assert health.cooldown == 2 * BREAKER_BASE_COOLDOWN


def test_stragglers_do_not_extend_an_open_breaker() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD, T0)
    open_until = health.open_until
    fail(health, 3, T0 + 10)  # requests already in flight when it opened
    assert health.open_until == open_until
    assert health.cooldown == BREAKER_BASE_COOLDOWN


def test_lost_probe_is_presumed_dead_after_the_timeout() -> None:
    health = HostHealth()
    fail(health, BREAKER_THRESHOLD, T0)
    later = T0 + BREAKER_BASE_COOLDOWN
    assert health.allow_request(later)
    # The prober never reports back; another worker may probe once the timeout passes.
    assert health.allow_request(later + PROBE_TIMEOUT)


# --- the 7-day rule ------------------------------------------------------------------------


def test_unavailable_after_failures_on_seven_distinct_utc_days() -> None:
    health = HostHealth()
    for day in range(6):
        fail(health, 3, T0 + day * DAY)
        assert not health.unavailable(T0 + day * DAY)
    health.failure(T0 + 6 * DAY)
    assert health.unavailable(T0 + 6 * DAY)


def test_days_need_not_be_consecutive_but_must_be_distinct() -> None:
    health = HostHealth()
    for day in (0, 2, 5, 9, 10, 30):
        health.failure(T0 + day * DAY)
    fail(health, 50, T0 + 30 * DAY + 60)  # many failures on one day count once
    assert not health.unavailable(T0 + 31 * DAY)
    health.failure(T0 + 40 * DAY)
    assert health.unavailable(T0 + 40 * DAY)


def test_days_are_utc_calendar_days() -> None:
    health = HostHealth()
    midnight = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
    # Seven failures a few minutes apart, but straddling midnight: two days, not seven.
    for minutes in (-3, -2, -1, 0, 1, 2, 3):
        health.failure(midnight + minutes * 60)
    assert len(health.failure_days) == 2
    assert not health.unavailable(midnight)


def test_a_success_or_inbound_activity_makes_the_host_available_again() -> None:
    for recover in ("success", "clear"):
        health = HostHealth()
        for day in range(7):
            health.failure(T0 + day * DAY)
        assert health.unavailable(T0 + 7 * DAY)
        if recover == "success":
            health.success(T0 + 7 * DAY)
        else:
            health.clear()
        assert not health.unavailable(T0 + 7 * DAY)
        assert health.state(T0 + 7 * DAY) == "closed"
        assert health.consecutive_failures == 0


def test_failure_days_stay_bounded() -> None:
    health = HostHealth()
    for day in range(400):
        health.failure(T0 + day * DAY)
    assert len(health.failure_days) == 7
    assert health.unavailable(T0 + 400 * DAY)


# --- serialisation -------------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    health = HostHealth()
    for day in range(3):
        fail(health, 2, T0 + day * DAY)
    health.allow_request(T0 + 3 * DAY)
    stored = json.dumps(health.to_dict())
    restored = HostHealth.from_dict(json.loads(stored))
    assert restored == health
    assert restored.to_dict() == health.to_dict()
    # The restored copy behaves the same from here on.
    for copy in (health, restored):
        copy.failure(T0 + 4 * DAY)
    assert restored == health


def test_fresh_state_round_trips_and_defaults_fill_in() -> None:
    assert HostHealth.from_dict(HostHealth().to_dict()) == HostHealth()
    assert HostHealth.from_dict({}) == HostHealth()
    assert HostHealth.from_dict({"consecutive_failures": 2}).consecutive_failures == 2


@pytest.mark.parametrize(
    "data",
    [
        {"v": 2},
        {"consecutive_failures": "3"},
        {"consecutive_failures": -1},
        {"consecutive_failures": True},
        {"open_until": "soon"},
        {"cooldown": None},
        {"probing": "yes"},
        {"failure_days": "monday"},
        {"failure_days": [1.5]},
        {"failure_days": [True]},
    ],
)
def test_corrupt_rows_are_reported(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HostHealth.from_dict(data)
