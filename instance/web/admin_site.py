"""Admin pages on how the instance runs: registrations (mode, pause, invite codes) and the
instance settings. Admins only; everyone else gets 404."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.config import REGISTRATION_MODES
from instance.errors import GapoError
from instance.i18n import LOCALE_NAMES
from instance.web.context import current_user, services
from instance.web.forms import form_fields, form_with_error, parse_id

blueprint = Blueprint("admin_site", __name__, url_prefix="/admin")

SETTING_FIELDS = ("name", "description", "contact", "rules", "terms", "default_language")


async def _registrations_context() -> dict[str, object]:
    staff = current_user()
    admin = services().site_admin
    return {
        "site": await admin.for_registrations(staff),
        "invites": await admin.invites(staff),
        "modes": REGISTRATION_MODES,
    }


@blueprint.get("/registrations")
async def registrations() -> str:
    context = await _registrations_context()
    return await render_template(
        "admin_registrations.html",
        done=request.args.get("done", ""),
        values={},
        **context,
    )


@blueprint.post("/registrations")
async def registrations_save() -> Response:
    values = await form_fields("registrations", "paused")
    try:
        await services().site_admin.save_registrations(
            current_user(), values["registrations"], bool(values["paused"])
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "admin_registrations.html", exc, values=values, **await _registrations_context()
        )
    return redirect(url_for("admin_site.registrations", done="saved"))  # type: ignore[return-value]


@blueprint.post("/invites")
async def invite_create() -> Response:
    values = await form_fields("max_uses", "expires_days")
    try:
        await services().site_admin.create_invite(
            current_user(), values["max_uses"], values["expires_days"]
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "admin_registrations.html", exc, values=values, **await _registrations_context()
        )
    # The new code heads the list on the page (never in the URL, which browsers keep).
    return redirect(url_for("admin_site.registrations", done="invite"))  # type: ignore[return-value]


@blueprint.post("/invites/expire")
async def invite_expire() -> Response:
    values = await form_fields("invite_id")
    invite_id = parse_id(values["invite_id"])
    if invite_id is not None:
        await services().site_admin.expire_invite(current_user(), invite_id)
    else:
        await services().site_admin.invites(current_user())  # 404 for anyone but an admin
    return redirect(url_for("admin_site.registrations", done="expired"))  # type: ignore[return-value]


@blueprint.get("/settings")
async def settings() -> str:
    site = await services().site_admin.for_settings(current_user())
    values = {
        "name": site.name,
        "description": site.description,
        "contact": site.contact,
        "rules": "\n".join(site.rules),
        "terms": site.terms,
        "default_language": site.default_language,
    }
    return await render_template(
        "admin_settings.html",
        values=values,
        languages=LOCALE_NAMES,
        done=request.args.get("done", ""),
    )


@blueprint.post("/settings")
async def settings_save() -> Response:
    values = await form_fields(*SETTING_FIELDS)
    try:
        await services().site_admin.save_settings(current_user(), **values)
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "admin_settings.html", exc, values=values, languages=LOCALE_NAMES, done=""
        )
    return redirect(url_for("admin_site.settings", done="saved"))  # type: ignore[return-value]
