"""The federation admin page: the mode (open or allowlist) and the allowlist (CSV import
and export too), domain blocks (add, change, remove, CSV import and export) and the health
of every host this server talks to."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.admin.federation import SEVERITIES
from instance.admin.roles import may
from instance.errors import N_, GapoError, ValidationFailed
from instance.web.context import current_user, services
from instance.web.forms import form_fields, form_with_error

blueprint = Blueprint("admin_federation", __name__, url_prefix="/admin")

MAX_CSV_BYTES = 2 * 1024 * 1024


async def _context() -> dict[str, object]:
    staff = current_user()
    admin = services().federation_admin
    role = staff["role"] if staff else None
    return {
        "blocks": await admin.blocks(staff),
        "mode": await admin.mode(staff),
        "allowlist": await admin.allowlist(staff),
        "hosts": await admin.health(staff),
        "severities": SEVERITIES,
        "can_unblock": may(role, "unblock_domain"),
        "can_block": may(role, "block_domain"),
    }


@blueprint.get("/federation")
async def federation() -> str:
    context = await _context()
    return await render_template(
        "admin_federation.html", values={}, done=request.args.get("done", ""), **context
    )


@blueprint.post("/federation/block")
async def block() -> Response:
    values = await form_fields(
        "domain",
        "severity",
        "reject_media",
        "reject_reports",
        "public_comment",
        "private_comment",
        "obfuscate",
    )
    try:
        await services().federation_admin.block(
            current_user(),
            values["domain"],
            severity=values["severity"],
            reject_media=bool(values["reject_media"]),
            reject_reports=bool(values["reject_reports"]),
            public_comment=values["public_comment"],
            private_comment=values["private_comment"],
            obfuscate=bool(values["obfuscate"]),
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "admin_federation.html", exc, values=values, **await _context()
        )
    return redirect(url_for("admin_federation.federation", done="block"))  # type: ignore[return-value]


@blueprint.post("/federation/unblock")
async def unblock() -> Response:
    values = await form_fields("domain", "reason")
    try:
        await services().federation_admin.unblock(
            current_user(), values["domain"], values["reason"]
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error("admin_federation.html", exc, values={}, **await _context())
    return redirect(url_for("admin_federation.federation", done="unblock"))  # type: ignore[return-value]


@blueprint.post("/federation/mode")
async def mode() -> Response:
    values = await form_fields("mode", "reason")
    try:
        await services().federation_admin.set_mode(current_user(), values["mode"], values["reason"])
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error("admin_federation.html", exc, values={}, **await _context())
    return redirect(url_for("admin_federation.federation", done="mode"))  # type: ignore[return-value]


@blueprint.post("/federation/allow")
async def allow() -> Response:
    values = await form_fields("domain", "reason", "remove")
    try:
        await services().federation_admin.allow(
            current_user(), values["domain"], values["reason"], allowed=not values["remove"]
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "admin_federation.html",
            exc,
            values={"allow_domain": values["domain"]},
            **await _context(),
        )
    return redirect(url_for("admin_federation.federation", done="allow"))  # type: ignore[return-value]


@blueprint.get("/federation/domain_blocks.csv")
async def export_csv() -> Response:
    body = await services().federation_admin.export_csv(current_user())
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="domain_blocks.csv"'
    return response


async def _csv_upload() -> str:
    """The uploaded CSV's text: present, at most MAX_CSV_BYTES, UTF-8."""
    files = await request.files
    upload = files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(N_("Choose a CSV file to import."), field="file")
    data = upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise ValidationFailed(N_("The file is too large."), field="file")
    try:
        return str(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationFailed(N_("The file is not UTF-8 text."), field="file") from None


@blueprint.post("/federation/import")
async def import_csv() -> Response:
    try:
        text = await _csv_upload()
        count = await services().federation_admin.import_csv(current_user(), text)
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error("admin_federation.html", exc, values={}, **await _context())
    return redirect(  # type: ignore[return-value]
        url_for("admin_federation.federation", done="import", count=count)
    )


@blueprint.get("/federation/domain_allows.csv")
async def export_allowlist() -> Response:
    body = await services().allowlist.export_csv(current_user())
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="domain_allows.csv"'
    return response


@blueprint.post("/federation/allowlist/import")
async def import_allowlist() -> Response:
    try:
        text = await _csv_upload()
        count = await services().allowlist.import_csv(current_user(), text)
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error("admin_federation.html", exc, values={}, **await _context())
    return redirect(  # type: ignore[return-value]
        url_for("admin_federation.federation", done="allow_import", count=count)
    )
