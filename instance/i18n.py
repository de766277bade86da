"""Translations: gettext catalogues (Vietnamese, English) and the choice of locale per request.

Catalogues are kept as `.po` files in the repo and compiled in memory at start-up,
so there is no generated binary to forget to rebuild.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "vi")
DEFAULT_LOCALE = "en"
LOCALE_NAMES = {"en": "English", "vi": "Tiếng Việt"}
LOCALE_DIR = Path(__file__).parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)
_catalogues: dict[str, NullTranslations] = {}


def _load(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def translations(locale: str) -> NullTranslations:
    if locale not in _catalogues:
        _catalogues[locale] = _load(locale)
    return _catalogues[locale]


def gettext(message: str, **variables: object) -> str:
    text = translations(current_locale.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_locale.get()).ungettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def best_match(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The supported locale a browser prefers most (by q value), or `default` (the
    instance's default language, set by its admin)."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LOCALES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else default


def valid_locale(value: str | None) -> str | None:
    return value if value in LOCALES else None
