"""The home page: a welcome, and for a new instance the way to create the first admin."""

from __future__ import annotations

from quart import Blueprint, render_template

from instance.web.context import services, settings

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
async def index() -> str:
    has_admin = await services().accounts.has_admin()
    return await render_template(
        "home.html", has_admin=has_admin, registrations=settings().registrations
    )


@blueprint.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
