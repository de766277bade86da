"""The language of a post: the choices the compose form offers, and checking a tag."""

from __future__ import annotations

import re

# Shown in the compose form, each in its own language so nobody needs a translation to
# find theirs. Vietnamese and English first: the languages of the interface.
POST_LANGUAGES: dict[str, str] = {
    "vi": "Tiếng Việt",
    "en": "English",
    "zh": "中文",
    "ja": "日本語",
    "ko": "한국어",
    "th": "ไทย",
    "id": "Bahasa Indonesia",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "pt": "Português",
    "ru": "Русский",
    "ar": "العربية",
}

# BCP 47 as peers send it: a primary subtag and a few subtags ("en", "pt-BR", "zh-Hant-TW").
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8}){0,3}", re.IGNORECASE)
MAX_LANGUAGE_LENGTH = 35


def normalize_language(value: str | None) -> str | None:
    """A well-formed language tag with a lower-case primary subtag, or None when not one."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_LANGUAGE_LENGTH or not _LANGUAGE_TAG.fullmatch(value):
        return None
    primary, _, rest = value.partition("-")
    return f"{primary.lower()}-{rest}" if rest else primary.lower()
