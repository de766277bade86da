"""Small helpers for reading forms and re-showing them with an error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from quart import current_app, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import GapoError
from instance.web.converters import MAX_ID
from instance.web.errors import message_of

MAX_FIELD = 10_000


async def form_fields(*names: str) -> dict[str, str]:
    """The named fields as stripped-of-nothing strings, '' when absent, bounded in length."""
    form = await request.form
    return {name: (form.get(name) or "")[:MAX_FIELD] for name in names}


async def form_with_error(template: str, exc: GapoError, **context: Any) -> Response:
    body = await render_template(template, error=message_of(exc), error_field=exc.field, **context)
    response = Response(body, status=exc.status, content_type="text/html; charset=utf-8")
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def parse_id(value: str | None) -> int | None:
    """A database id from a form field or query argument; None unless it could be one.

    Only ASCII digits (`str.isdigit` also accepts "²"), and no larger than a 64-bit signed
    integer, so a hostile value is a miss instead of an overflow in the database driver.
    """
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def query_id(name: str) -> int | None:
    """`parse_id` of a query-string argument (a paging cursor such as `max_id`)."""
    return parse_id(request.args.get(name))


MAX_NEXT = 2000


def _printable_ascii(text: str) -> bool:
    # No space, no control character: browsers drop tabs and newlines from a URL ("/\t/x"
    # becomes "//x", another site), and a CR/LF in Location is a 500 after the work is done.
    return all("!" <= ch <= "~" for ch in text)


def safe_next(target: str | None, default: str | None = None) -> str:
    """A same-site path to go to after a form; anything else gives `default` (home if None).

    Called before the form's action, so a bad `next` changes where the person lands, never
    whether the action happened. Only a local path is kept: no scheme or host but our own,
    no `//` or backslash (other hosts to a browser), nothing but printable ASCII.
    """
    fallback = url_for("home.index") if default is None else default
    if not target or len(target) > MAX_NEXT or not _printable_ascii(target):
        return fallback
    parts = urlsplit(target)
    base = urlsplit(current_app.config["GAPO_SETTINGS"].base_url)
    if parts.scheme or parts.netloc:
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            return fallback
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target
