"""Account settings beside the profile: the email address and the signed-in sessions."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import GapoError
from instance.web.context import SESSION_COOKIE, require_user, services
from instance.web.forms import form_fields, form_with_error

blueprint = Blueprint("account_settings", __name__, url_prefix="/settings")


@blueprint.get("/email")
async def email_form() -> str:
    require_user()
    return await render_template(
        "settings_email.html", values={}, changed=request.args.get("changed") == "1"
    )


@blueprint.post("/email")
async def email_save() -> Response:
    """The new address and the current password; the address is checked like at sign-up."""
    user = require_user()
    values = await form_fields("email", "current")
    try:
        await services().accounts.change_email(user["user_id"], values["current"], values["email"])
    except GapoError as exc:
        return await form_with_error(
            "settings_email.html", exc, values={"email": values["email"]}, changed=False
        )
    return redirect(url_for("account_settings.email_form", changed="1"))  # type: ignore[return-value]


@blueprint.get("/sessions")
async def sessions_list() -> str:
    user = require_user()
    listed = await services().sessions.for_user(
        user["user_id"], request.cookies.get(SESSION_COOKIE)
    )
    return await render_template(
        "settings_sessions.html", sessions=listed, ended=request.args.get("ended", "")
    )


@blueprint.post("/sessions/<int:session_id>/end")
async def session_end(session_id: int) -> Response:
    """Ends one session (a lost phone, a shared computer); it is signed out at its next page."""
    user = require_user()
    await services().sessions.end_one(user["user_id"], session_id)
    return redirect(url_for("account_settings.sessions_list", ended="one"))  # type: ignore[return-value]


@blueprint.post("/sessions/end-others")
async def sessions_end_others() -> Response:
    user = require_user()
    await services().sessions.end_others(user["user_id"], request.cookies.get(SESSION_COOKIE))
    return redirect(url_for("account_settings.sessions_list", ended="others"))  # type: ignore[return-value]
