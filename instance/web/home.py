"""The home page: a welcome, and for a new instance the way to create the first admin."""

from __future__ import annotations

from quart import Blueprint, render_template

from instance.web.context import services

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
async def index() -> str:
    has_admin = await services().accounts.has_admin()
    site = await services().site.get()
    return await render_template("home.html", has_admin=has_admin, registrations=site.signup_mode)


@blueprint.get("/health")
async def health() -> tuple[dict[str, str], int, dict[str, str]]:
    """Reached only under a mounted root path: `web/ops_endpoints.py` answers it otherwise."""
    if await services().operations.ready():
        return {"status": "ok"}, 200, {"Cache-Control": "no-store"}
    return {"status": "unavailable"}, 503, {"Retry-After": "5", "Cache-Control": "no-store"}
