"""Settings for a person's own data: export it, import follows, blocks and mutes, delete it."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import GapoError
from instance.web.context import (
    clear_device_cookie,
    clear_session_cookie,
    require_user,
    services,
)
from instance.web.forms import form_fields, form_with_error

blueprint = Blueprint("data_settings", __name__, url_prefix="/settings")


@blueprint.get("/data")
async def data_page() -> str:
    require_user()
    return await render_template("settings_data.html", imported=request.args.get("imported", ""))


@blueprint.post("/delete")
async def delete_account() -> Response:
    """Deletion, confirmed with the password: the account is gone for the browser at once
    (every session ends); the job queue removes the rest."""
    user = require_user()
    values = await form_fields("current")
    try:
        await services().accounts.delete_own(user["user_id"], values["current"])
    except GapoError as exc:
        return await form_with_error("settings_data.html", exc, imported="")
    response: Response = redirect(url_for("data_settings.deleted"))  # type: ignore[assignment]
    clear_session_cookie(response)
    clear_device_cookie(response)
    return response


@blueprint.get("/deleted")
async def deleted() -> str:
    return await render_template("account_deleted.html")


@blueprint.get("/export")
async def export_archive() -> Response:
    raise NotImplementedError


@blueprint.post("/import")
async def import_list() -> Response:
    raise NotImplementedError
