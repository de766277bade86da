"""Moments as a reader reads them: "5 minutes ago", then a date, in their zone and language.

Pure functions of (timestamp, now, locale, zone), so they are tested without a request;
`instance/web/context.py` supplies the request's locale and the reader's zone. The zone
comes from a cookie that static/app.js sets from the browser
(`Intl.DateTimeFormat().resolvedOptions().timeZone`); anything that is not a zone the
system's tz database knows falls back to the instance's `default_time_zone`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta

from instance.i18n import current_locale, gettext

TIME_ZONE_COOKIE = "gapo_tz"
# IANA names are short ASCII paths ("Asia/Ho_Chi_Minh", "America/Argentina/Buenos_Aires",
# "Etc/GMT+7"). Checked before ZoneInfo sees the value: it must never read a path a
# cookie chose ("../../etc/passwd") or parse something huge.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,30}(/[A-Za-z0-9_+\-]{1,30}){0,2}")

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone of that IANA name, or None when it is not one."""
    if not name or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


# Babel's formatting costs 50-100 µs a call, and a feed page shows 20 times: the same
# (moment, second, locale, zone) comes back for every reader in that second, so the last
# few thousand answers are kept (a few hundred kB).
_MEMO = 4096


def relative(ts: int, now: int, locale: str, zone: ZoneInfo) -> str:
    """ "just now", "5 minutes ago", "2 hours ago" within a day, then the date (with the
    year only when it is not this year's), as people read a feed."""
    # "just now" is translated into the current locale: part of the key.
    return _relative(ts, now, locale, zone, current_locale.get())


@lru_cache(maxsize=_MEMO)
def _relative(ts: int, now: int, locale: str, zone: ZoneInfo, _messages: str) -> str:
    age = now - ts
    if age < MINUTE:
        # A post from a server whose clock runs ahead is "just now", not "in 2 minutes".
        return gettext("just now")
    if age < DAY:
        # threshold=1: 50 minutes stays "50 minutes", not rounded up to "1 hour".
        return format_timedelta(
            timedelta(seconds=-age), threshold=1, add_direction=True, locale=locale
        )
    moment = datetime.fromtimestamp(ts, UTC).astimezone(zone)
    today = datetime.fromtimestamp(now, UTC).astimezone(zone)
    if moment.year == today.year:
        return format_skeleton("MMMd", moment, locale=locale)
    return format_date(moment.date(), "medium", locale=locale)


@lru_cache(maxsize=_MEMO)
def exact(ts: int, locale: str, zone: ZoneInfo) -> str:
    """The full date and time with its offset, for a `title` or a list of sessions."""
    return format_datetime(datetime.fromtimestamp(ts, UTC), "long", tzinfo=zone, locale=locale)
