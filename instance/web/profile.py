"""Profile pages at /@username."""

from __future__ import annotations

from quart import Blueprint, render_template

from instance.web.context import services

blueprint = Blueprint("profile", __name__)


@blueprint.get("/@<username>")
async def show(username: str) -> str:
    account = await services().accounts.profile(username)
    return await render_template("profile.html", account=account)
