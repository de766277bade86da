"""The password rule: passphrases pass, even with the username in them; guessable ones fail."""

from __future__ import annotations

import pytest
from quart import Quart

from instance.accounts.password_strength import LONG_ENOUGH, strong_enough
from instance.accounts.validation import validate_password
from instance.errors import ValidationFailed
from tests.helpers.web import post_form, signup


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("Chuoi-xanh-Ban-Me-2026", "an"),
        ("hoa hồng nở sáng nay", "hoa"),
        ("lan đi chợ bến thành", "lan"),
        ("minh thích phở bò tái", "minh"),
        ("correct horse battery staple", "ngoc"),
    ],
)
def test_passphrase_containing_the_username_passes(password: str, username: str) -> None:
    """A phrase is accepted whether or not a short name appears in it."""
    assert validate_password(password, (username, f"{username}@example.org")) == password


@pytest.mark.parametrize(
    "password",
    ["password123", "matkhau123", "1234567890", "qwertyuiop", "aaaaaaaaaaaaaaaaaaaa"],
)
def test_guessable_passwords_fail_with_the_advice(password: str) -> None:
    """Common passwords, walks and repeats are refused, with what to do instead."""
    with pytest.raises(ValidationFailed) as refused:
        validate_password(password, ("an",))
    assert refused.value.field == "password"
    assert "too easy to guess" in refused.value.message
    assert refused.value.args_for_message == {"long": LONG_ENOUGH}


def test_the_username_and_email_count_against_a_short_password() -> None:
    """A short password built from the person's own name is easy to guess for them."""
    assert strong_enough("xuanmai1990!", ())
    assert not strong_enough("xuanmai1990!", ("xuanmai", "xuanmai@example.org"))


def test_long_passwords_pass_on_length() -> None:
    """From 16 characters on, length is enough (zxcvbn itself stops at 72)."""
    assert strong_enough("a" * 3 + "bcdefghijklmnop")
    assert strong_enough("một câu dài " * 20)
    with pytest.raises(ValidationFailed, match="at least"):
        validate_password("short1!")


async def test_signup_and_change_with_a_passphrase_holding_the_name(client, app: Quart) -> None:
    """`an` signs up with "Chuoi-xanh-Ban-Me-2026" and may change to another such phrase;
    `password123` is refused with the translated advice."""
    vietnamese = {"headers": {"Accept-Language": "vi"}}
    created = await signup(
        client, "an", password="Chuoi-xanh-Ban-Me-2026", request_kwargs=vietnamese
    )
    assert created.status_code == 302
    weak = await post_form(
        client,
        "/settings/password",
        {
            "current": "Chuoi-xanh-Ban-Me-2026",
            "password": "password123",
            "password_again": "password123",
        },
        csrf_from="/settings/password",
    )
    assert weak.status_code == 422
    text = await weak.get_data(as_text=True)
    assert "Mật khẩu này dễ đoán quá" in text and "16" in text
    new = "an-di-hoc-luc-7-gio"
    changed = await post_form(
        client,
        "/settings/password",
        {"current": "Chuoi-xanh-Ban-Me-2026", "password": new, "password_again": new},
        csrf_from="/settings/password",
    )
    assert changed.status_code == 302
