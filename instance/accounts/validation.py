"""Rules for what a person may choose: usernames, emails, passwords, profile text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from instance.accounts.password_strength import LONG_ENOUGH, strong_enough
from instance.errors import N_, ValidationFailed

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
EMAIL_LOCAL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
DOMAIN_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PASSWORD_MIN = 10
PASSWORD_MAX = 256
DISPLAY_NAME_MAX = 100
BIO_MAX = 2000


@dataclass(frozen=True)
class PasswordRule:
    """What the sign-up and change-password forms say of a new password, before refusing it."""

    min: int
    long: int
    max: int


PASSWORD_RULE = PasswordRule(min=PASSWORD_MIN, long=LONG_ENOUGH, max=PASSWORD_MAX)

# Names that would shadow routes, well-known paths or staff roles.
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "inbox",
        "outbox",
        "users",
        "user",
        "well_known",
        "wellknown",
        "api",
        "static",
        "media",
        "login",
        "logout",
        "signup",
        "settings",
        "about",
        "actor",
        "instance",
        "nodeinfo",
        "webfinger",
        "hostmeta",
        "host_meta",
        "support",
        "help",
        "moderator",
        "mod",
        "staff",
        "system",
        "gapo",
        "www",
        "mail",
        "postmaster",
        "abuse",
        "security",
        "null",
        "undefined",
        "tags",
        "search",
        "notifications",
        "home",
        "public",
        "local",
        "federated",
        "explore",
        "auth",
        "oauth",
        "health",
        "feed",
        "followers",
        "following",
        "posts",
        "notes",
        "ap",
        "activitypub",
        "invite",
        "invites",
        "account",
        "accounts",
        "profile",
        "registration",
        "register",
        "www_data",
        "noreply",
        "no_reply",
    }
)


def validate_username(raw: str) -> str:
    username = raw.strip()
    if not username:
        raise ValidationFailed(N_("Choose a username."), field="username")
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            N_("A username has 1 to 30 characters: lowercase letters a–z, digits and _."),
            field="username",
        )
    if username in RESERVED_USERNAMES:
        raise ValidationFailed(N_("That username is reserved."), field="username")
    return username


def normalise_email(raw: str) -> str:
    """Lower-cases the domain (and the local part: providers treat it case-blind in practice)."""
    email = unicodedata.normalize("NFC", raw.strip())
    if email.count("@") != 1 or len(email) > 254:
        raise ValidationFailed(N_("Enter a valid email address."), field="email")
    local, domain = email.rsplit("@", 1)
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValidationFailed(N_("Enter a valid email address."), field="email") from exc
    labels = domain.split(".")
    if (
        not EMAIL_LOCAL_RE.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or len(labels) < 2
        or not all(DOMAIN_LABEL_RE.match(label) for label in labels)
    ):
        raise ValidationFailed(N_("Enter a valid email address."), field="email")
    return f"{local.lower()}@{domain}"


def validate_password(password: str, user_inputs: Sequence[str] = ()) -> str:
    """Length bounds, then the guessability estimate (password_strength.py).

    `user_inputs` are the person's username and email: a password made of them is easy to
    guess, but a passphrase that merely contains a short name is not refused for it. The
    estimate costs milliseconds: PasswordService.check runs this on the password pool.
    """
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(
            N_("A password needs at least %(min)d characters."), field="password", min=PASSWORD_MIN
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(
            N_("A password has at most %(max)d characters."), field="password", max=PASSWORD_MAX
        )
    if not strong_enough(password, user_inputs):
        raise ValidationFailed(
            N_(
                "That password is too easy to guess. Try a phrase of a few words, "
                "%(long)d characters or more."
            ),
            field="password",
            long=LONG_ENOUGH,
        )
    return password


def clean_text(raw: str, *, limit: int, field: str) -> str:
    """Normalise to NFC, drop control characters except newlines, and enforce a length."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").strip()
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    if len(text) > limit:
        raise ValidationFailed(
            N_("This text is too long (at most %(limit)d characters)."), field=field, limit=limit
        )
    return text
