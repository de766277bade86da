"""How hard a password is to guess: zxcvbn's estimate for short ones, length for long ones.

Substring rules ("must not contain the username") refused ordinary passphrases of people
with short names: `an` cannot use "Chuoi-xanh-Ban-Me-2026". zxcvbn (the maintained Python
port of Dropbox's estimator) instead scores what an attacker would try first: common
passwords, dictionary words, keyboard walks, dates, repeats, and the person's own name and
email, given as `user_inputs`. A score of 3 means roughly 10^8 guesses or more, "safely
unguessable" for an online attack against a rate-limited login.

A password of 16 characters or more is accepted without the estimate: a phrase of a few
words is the advice the forms give, and zxcvbn's time grows with the length (its own cap is
72 characters). Only a long password of a handful of distinct characters ("aaaa…") is
refused. The estimate takes a few milliseconds, so callers run it on the password pool.
"""

from __future__ import annotations

from collections.abc import Sequence

LONG_ENOUGH = 16
MIN_SCORE = 3
# Below this many distinct characters even a long password is a repeat.
MIN_DISTINCT = 5


def needs_estimate(password: str) -> bool:
    """Whether judging `password` runs zxcvbn (milliseconds), or is a length check (nothing)."""
    return len(password) < LONG_ENOUGH


def strong_enough(password: str, user_inputs: Sequence[str] = ()) -> bool:
    """Whether `password` is hard enough to guess for someone with these name and email."""
    if len(set(password)) < MIN_DISTINCT:
        return False
    if not needs_estimate(password):
        return True
    inputs = [value for value in user_inputs if value]
    # Imported on first use: its dictionaries are 14 MiB of every worker's memory, and only
    # passwords under 16 characters need them (most sign-ups use a phrase).
    from zxcvbn import zxcvbn

    return int(zxcvbn(password, user_inputs=inputs)["score"]) >= MIN_SCORE
