"""Profile pages at /@username."""

from __future__ import annotations

from quart import Blueprint

from instance.web.context import services
from instance.web.people import render_account

blueprint = Blueprint("profile", __name__)


@blueprint.get("/@<username>")
async def show(username: str) -> str:
    account = await services().accounts.profile(username)
    return await render_account(account)
