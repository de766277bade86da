"""The gettext catalogues: up to date with the sources, and Vietnamese complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "instance" / "locale"
PYBABEL = Path(sys.executable).parent / "pybabel"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def msgids(catalog: Catalog) -> set[str]:
    return {str(m.id) for m in catalog if m.id}


def test_template_is_up_to_date(tmp_path: Path) -> None:
    """messages.pot holds exactly the strings the sources mark today (run `make messages`)."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    current = msgids(read(LOCALE_DIR / "messages.pot"))
    extracted = msgids(read(fresh))
    assert extracted == current, (
        "run `make messages` and translate: "
        f"new {sorted(extracted - current)}, gone {sorted(current - extracted)}"
    )


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_catalogue_covers_the_template(locale: str) -> None:
    """Each locale's .po has an entry for every msgid of the template."""
    template = msgids(read(LOCALE_DIR / "messages.pot"))
    catalogue = read(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    assert template <= msgids(catalogue), sorted(template - msgids(catalogue))


def test_every_message_has_a_vietnamese_translation() -> None:
    """Every msgid has a non-empty, non-fuzzy Vietnamese msgstr with the same placeholders."""
    template = msgids(read(LOCALE_DIR / "messages.pot"))
    catalogue = read(LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po", "vi")
    problems = []
    for message in catalogue:
        if not message.id or str(message.id) not in template:
            continue
        text = message.string if isinstance(message.string, str) else "".join(message.string)
        if not text.strip() or message.fuzzy:
            problems.append(f"untranslated: {message.id!r}")
        elif sorted(PLACEHOLDER.findall(str(message.id))) != sorted(PLACEHOLDER.findall(text)):
            problems.append(f"placeholders differ: {message.id!r}")
    assert not problems, "\n".join(problems)


def test_translations_load_at_run_time() -> None:
    """The running code finds the Vietnamese catalogue and formats its placeholders."""
    from instance import i18n

    token = i18n.current_locale.set("vi")
    try:
        assert i18n.gettext("Log in") == "Đăng nhập"
        assert "12" in i18n.gettext("A password needs at least %(min)d characters.", min=12)
    finally:
        i18n.current_locale.reset(token)
    assert i18n.gettext("Log in") == "Log in"
