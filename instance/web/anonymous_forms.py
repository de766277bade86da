"""Form pages for visitors who are not signed in, rendered once per language and reused.

Under a sign-up surge every client first loads the sign-up form: a full Jinja render of
signup.html and base.html (about 20 translated strings, 20 `url_for`, the icons), 26 % of
the event loop's time in a surge of 200 clients (py-spy, docs/overload.md). For a visitor
the page depends only on the language and the settings, except for the CSRF token, so it
is rendered once per key with a placeholder where the token goes and the session's real
token is put in its place on every request. A signed-in person always gets a fresh render
(their name, notifications and menu are on the page).
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from typing import Any

from quart import render_template

from instance.web.context import csrf_token

# Letters and digits only: HTML escaping leaves it as it is wherever the template puts it.
PLACEHOLDER = "csrf" + secrets.token_hex(16)

_pages: dict[tuple[str, Hashable], str] = {}


def _placeholder() -> str:
    return PLACEHOLDER


async def visitor_form(template: str, key: Hashable, **context: Any) -> str:
    """`template` rendered for a visitor; `key` must cover everything the page varies with
    other than the CSRF token (the language, the settings shown)."""
    page = _pages.get((template, key))
    if page is None:
        page = await render_template(template, **context, csrf_token=_placeholder)
        _pages[(template, key)] = page
    # The real token, made now if the session has none: it goes out in the state cookie.
    return page.replace(PLACEHOLDER, csrf_token())
