"""A coarse label for a session's browser ("Firefox on Android"), never the user agent itself.

A full user-agent string, kept at rest, narrows a person down (versions, build numbers,
device models); next to an account it is what an order for records would ask for. The
label is chosen from the fixed names below, so no byte of the client's header is ever
stored, and it is enough for someone to recognise their own sessions in a list.
"""

from __future__ import annotations

from instance.errors import N_

# Checked in order: Chromium-based browsers also say "Chrome" and "Safari", and Chrome on
# Android also says "Linux", so the more specific markers come first.
BROWSERS: tuple[tuple[str, str], ...] = (
    ("edg/", "Edge"),
    ("edga/", "Edge"),
    ("edgios/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chromium"),
    ("chrome/", "Chromium"),
    ("chromium/", "Chromium"),
    ("safari/", "Safari"),
)
SYSTEMS: tuple[tuple[str, str], ...] = (
    ("android", "Android"),
    ("iphone", "iOS"),
    ("ipad", "iOS"),
    ("cros", "ChromeOS"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("macintosh", "macOS"),
    ("freebsd", "BSD"),
    ("openbsd", "BSD"),
    ("linux", "Linux"),
)
# Marked for translation: a sessions list shows them in the reader's language.
UNKNOWN_BROWSER = N_("A browser")
UNKNOWN_SYSTEM = N_("an unknown system")
SEPARATOR = " on "


def _first(lowered: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in table if marker in lowered), None)


def device_label(user_agent: str | None) -> str:
    """One of a few dozen fixed labels for the client, e.g. "Chromium on Linux"."""
    lowered = (user_agent or "")[:1000].lower()
    browser = _first(lowered, BROWSERS) or UNKNOWN_BROWSER
    system = _first(lowered, SYSTEMS) or UNKNOWN_SYSTEM
    return f"{browser}{SEPARATOR}{system}"


def label_parts(label: str | None) -> tuple[str, str]:
    """The browser and system of a stored label, to be worded in the reader's language."""
    browser, _, system = (label or "").partition(SEPARATOR)
    return browser or UNKNOWN_BROWSER, system or UNKNOWN_SYSTEM
