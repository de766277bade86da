"""The "Moving" settings page: the accounts this one moved from, and moving away."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import GapoError
from instance.web.context import require_user, services
from instance.web.forms import form_fields, form_with_error

blueprint = Blueprint("moving_settings", __name__, url_prefix="/settings")


async def _context(account_id: int) -> dict[str, Any]:
    return {
        "status": await services().moves.status(account_id),
        "done": request.args.get("done", ""),
    }


@blueprint.get("/moving")
async def moving_page() -> str:
    user = require_user()
    return await render_template("settings_moving.html", **await _context(user["account_id"]))


async def _again(exc: GapoError, account_id: int) -> Response:
    return await form_with_error("settings_moving.html", exc, **await _context(account_id))


@blueprint.post("/aliases")
async def add_alias() -> Response:
    user = require_user()
    values = await form_fields("alias")
    try:
        await services().moves.add_alias(user["account_id"], values["alias"])
    except GapoError as exc:
        return await _again(exc, user["account_id"])
    return redirect(url_for("moving_settings.moving_page", done="alias"))  # type: ignore[return-value]


@blueprint.post("/aliases/remove")
async def remove_alias() -> Response:
    user = require_user()
    values = await form_fields("alias_id")
    try:
        await services().moves.remove_alias(user["account_id"], values["alias_id"])
    except GapoError as exc:
        return await _again(exc, user["account_id"])
    return redirect(url_for("moving_settings.moving_page"))  # type: ignore[return-value]


@blueprint.post("/move")
async def move_away() -> Response:
    """The move, confirmed with the password; the checks' reasons come back on the page."""
    user = require_user()
    values = await form_fields("target", "current")
    try:
        await services().moves.move_away(
            user["user_id"], user["account_id"], values["target"], values["current"]
        )
    except GapoError as exc:
        return await _again(exc, user["account_id"])
    return redirect(url_for("moving_settings.moving_page", done="moved"))  # type: ignore[return-value]


@blueprint.post("/move/cancel")
async def cancel_move() -> Response:
    """Cancel the redirect: this account is an ordinary one again (followers who moved stay)."""
    user = require_user()
    await form_fields()
    await services().moves.cancel(user["account_id"])
    return redirect(url_for("moving_settings.moving_page", done="cancelled"))  # type: ignore[return-value]
