"""Settings pages: edit the profile (text, fields, images), change the password, choose the
interface language."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance import i18n
from instance.accounts.profile_fields import MAX_FIELDS, stored_fields
from instance.accounts.validation import PASSWORD_RULE
from instance.errors import N_, GapoError, ValidationFailed
from instance.media.images import MAX_IMAGE_BYTES
from instance.web.context import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    Row,
    require_user,
    rotate_csrf,
    services,
    settings,
)
from instance.web.forms import form_fields, form_with_error, safe_next

blueprint = Blueprint("settings", __name__, url_prefix="/settings")

FIELD_NAMES = [f"field_{part}_{i}" for i in range(MAX_FIELDS) for part in ("name", "value")]


async def _upload(name: str) -> bytes | None:
    """The bytes of an uploaded file, or None when the form sent none."""
    files = await request.files
    upload = files.get(name)
    if upload is None or not upload.filename:
        return None
    # One byte past the limit is enough for the service to refuse it as too large.
    return upload.read(MAX_IMAGE_BYTES + 1)  # type: ignore[no-any-return]


@blueprint.get("/profile")
async def profile_form() -> str:
    user = require_user()
    account = await services().accounts.profile(user["username"])
    values = {
        "display_name": account["display_name"],
        "bio": account["note_source"],
        "locked": "on" if account["locked"] else "",
        "bot": "on" if account["bot"] else "",
        "indexable": "on" if account["indexable"] else "",
    }
    for i, field in enumerate(stored_fields(account["fields_json"])[:MAX_FIELDS]):
        values[f"field_name_{i}"] = field["name"]
        values[f"field_value_{i}"] = field["value"]
    return await render_template(
        "settings_profile.html", values=values, account=account, max_fields=MAX_FIELDS
    )


@blueprint.post("/profile")
async def profile_save() -> Response:
    user = require_user()
    values = await form_fields("display_name", "bio", "locked", "bot", "indexable", *FIELD_NAMES)
    fields = [(values[f"field_name_{i}"], values[f"field_value_{i}"]) for i in range(MAX_FIELDS)]
    try:
        # Saves the profile and, in the same transaction, its Update(Person) for followers.
        await services().accounts.update_profile(
            user["account_id"],
            display_name=values["display_name"],
            bio=values["bio"],
            locked=bool(values["locked"]),
            bot=bool(values["bot"]),
            fields=fields,
            avatar=await _upload("avatar"),
            header=await _upload("header"),
            indexable=bool(values["indexable"]),
        )
    except GapoError as exc:
        account = await services().accounts.account(user["account_id"])
        return await form_with_error(
            "settings_profile.html", exc, values=values, account=account, max_fields=MAX_FIELDS
        )
    return redirect(url_for("profile.show", username=user["username"]))  # type: ignore[return-value]


async def _other_sessions() -> list[Row]:
    user = require_user()
    return await services().sessions.others(user["user_id"], request.cookies.get(SESSION_COOKIE))


@blueprint.get("/password")
async def password_form() -> str:
    return await render_template(
        "settings_password.html",
        others=await _other_sessions(),
        changed=request.args.get("changed") == "1",
        password_rule=PASSWORD_RULE,
    )


@blueprint.post("/password")
async def password_save() -> Response:
    """The current password, the new one twice; every other session of the account ends."""
    user = require_user()
    values = await form_fields("current", "password", "password_again")
    try:
        if values["password"] != values["password_again"]:
            raise ValidationFailed(N_("The two new passwords differ."), field="password_again")
        await services().accounts.change_password(
            user["user_id"],
            values["current"],
            values["password"],
            keep_token=request.cookies.get(SESSION_COOKIE),
        )
    except GapoError as exc:
        return await form_with_error(
            "settings_password.html",
            exc,
            others=await _other_sessions(),
            password_rule=PASSWORD_RULE,
        )
    rotate_csrf()
    return redirect(url_for("settings.password_form", changed="1"))  # type: ignore[return-value]


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
