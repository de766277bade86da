"""Settings pages: edit the profile, choose the interface language."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance import i18n
from instance.errors import GapoError
from instance.web.context import LOCALE_COOKIE, require_user, services, settings
from instance.web.forms import form_fields, form_with_error, safe_next

blueprint = Blueprint("settings", __name__, url_prefix="/settings")


@blueprint.get("/profile")
async def profile_form() -> str:
    user = require_user()
    account = await services().accounts.profile(user["username"])
    values = {
        "display_name": account["display_name"],
        "bio": account["note_source"],
        "locked": "on" if account["locked"] else "",
        "bot": "on" if account["bot"] else "",
    }
    return await render_template("settings_profile.html", values=values)


@blueprint.post("/profile")
async def profile_save() -> Response:
    user = require_user()
    values = await form_fields("display_name", "bio", "locked", "bot")
    try:
        await services().accounts.update_profile(
            user["account_id"],
            display_name=values["display_name"],
            bio=values["bio"],
            locked=bool(values["locked"]),
            bot=bool(values["bot"]),
        )
    except GapoError as exc:
        return await form_with_error("settings_profile.html", exc, values=values)
    # Followers elsewhere learn of the change through an Update(Person).
    await services().profile_federation.announce_update(user["account_id"])
    return redirect(url_for("profile.show", username=user["username"]))  # type: ignore[return-value]


@blueprint.post("/locale")
async def locale_save() -> Response:
    values = await form_fields("locale", "next")
    locale = i18n.valid_locale(values["locale"]) or i18n.DEFAULT_LOCALE
    user = g.get("user")
    if user is not None:
        await services().accounts.set_locale(user["user_id"], locale)
    response = redirect(safe_next(values["next"] or request.referrer))
    response.set_cookie(  # type: ignore[union-attr]
        LOCALE_COOKIE,
        locale,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings().secure_cookies,
    )
    return response  # type: ignore[return-value]
