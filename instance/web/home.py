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
async def health() -> dict[str, str]:
    return {"status": "ok"}
