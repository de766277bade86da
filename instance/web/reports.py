"""A person reports an account (and some of its posts) to the moderators here."""

from __future__ import annotations

from quart import Blueprint, render_template, request
from quart.wrappers import Response

from instance.errors import GapoError
from instance.web.context import require_user, services
from instance.web.forms import form_fields, form_with_error, parse_id

blueprint = Blueprint("reports", __name__)


async def _target(account_id: int | None) -> object:
    account = await services().accounts.account(account_id or 0)
    return account


@blueprint.get("/report")
async def report_form() -> str:
    require_user()
    account_id = parse_id(request.args.get("account_id"))
    account = await _target(account_id)
    post_id = parse_id(request.args.get("post_id"))
    return await render_template(
        "report.html", account=account, post_id=post_id or "", values={}, sent=False
    )


@blueprint.post("/report")
async def report() -> Response:
    user = require_user()
    values = await form_fields("account_id", "post_id", "comment", "forward")
    account_id = parse_id(values["account_id"])
    post_id = parse_id(values["post_id"])
    account = await _target(account_id)
    reporter = await services().accounts.account(user["account_id"])
    try:
        await services().reports.file(
            reporter,
            account_id or 0,
            [post_id] if post_id else [],
            values["comment"],
            forward=bool(values["forward"]),
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        return await form_with_error(
            "report.html", exc, account=account, post_id=post_id or "", values=values, sent=False
        )
    body = await render_template("report.html", account=account, post_id="", values={}, sent=True)
    return Response(body, status=201, content_type="text/html; charset=utf-8")
