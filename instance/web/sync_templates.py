"""Pages rendered by a synchronous twin of the app's Jinja environment.

Quart compiles templates for async rendering: every loop, include, macro and call then goes
through coroutines and `auto_await`, which cost about two thirds of a feed page's CPU
(issue 15's profile: 16-25 ms a page) although nothing in a template waits for anything.
A page whose context is gathered beforehand (every value a template reads is already
there) renders the same templates with the same loader, globals, filters, i18n and
undefined through `Environment.overlay(enable_async=False)`, in one synchronous call.

The output is the same text: only the compiled form of the templates differs.
"""

from __future__ import annotations

from typing import Any, cast

from jinja2 import Environment, Template
from quart import Quart, current_app

# Its own cache of compiled templates (an overlay would otherwise copy the async ones).
# 400 is Jinja's default size, above the number of templates Gapo has.
_CACHE_SIZE = 400
_EXTENSION = "gapo_sync_jinja"


def sync_environment(app: Quart) -> Environment:
    """The app's Jinja environment compiled for synchronous rendering (made once per app,
    after start-up, so that it sees every filter, global and extension registered)."""
    env = app.extensions.get(_EXTENSION)
    if env is None:
        env = app.jinja_env.overlay(enable_async=False, cache_size=_CACHE_SIZE)
        app.extensions[_EXTENSION] = env
    return cast(Environment, env)


def sync_template(name: str) -> Template:
    return sync_environment(current_app).get_template(name)


async def with_template_globals(context: dict[str, Any]) -> dict[str, Any]:
    """The context with what the app's context processors add (they may read the database),
    as `render_template` would pass it; values given by the caller win."""
    await current_app.update_template_context(context)
    return context
