"""The admin report queue: open and closed reports, one report, resolving it."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.admin.reports import RESOLUTIONS
from instance.errors import GapoError
from instance.web.context import current_user, services
from instance.web.errors import message_of
from instance.web.forms import form_fields, query_id

blueprint = Blueprint("admin_reports", __name__, url_prefix="/admin")


@blueprint.get("/reports")
async def reports() -> str:
    resolved = request.args.get("state") == "closed"
    found = await services().report_queue.page(
        current_user(), resolved=resolved, max_id=query_id("max_id")
    )
    return await render_template("admin_reports.html", reports=found, resolved=resolved)


async def _report_page(report_id: int, **extra: object) -> str:
    detail = await services().report_queue.detail(current_user(), report_id)
    return await render_template(
        "admin_report.html", detail=detail, resolutions=RESOLUTIONS, **extra
    )


@blueprint.get("/reports/<int:report_id>")
async def report(report_id: int) -> str:
    return await _report_page(report_id, values={}, done=request.args.get("done", ""))


@blueprint.post("/reports/<int:report_id>/resolve")
async def resolve(report_id: int) -> Response:
    values = await form_fields("action", "reason")
    try:
        await services().report_queue.resolve(
            current_user(), report_id, values["action"], values["reason"]
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        body = await _report_page(
            report_id, values=values, error=message_of(exc), error_field=exc.field, done=""
        )
        return Response(body, status=exc.status, content_type="text/html; charset=utf-8")
    return redirect(  # type: ignore[return-value]
        url_for("admin_reports.report", report_id=report_id, done="resolved")
    )
