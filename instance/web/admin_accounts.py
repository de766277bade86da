"""Admin pages about people: the account list and search, one account with its actions,
and the audit log. Every page answers 404 to anyone who is not staff."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.admin.moderation import ACTIONS, require
from instance.admin.roles import may
from instance.errors import GapoError
from instance.web.context import current_user, services
from instance.web.errors import message_of
from instance.web.forms import form_fields, query_id

blueprint = Blueprint("admin_accounts", __name__, url_prefix="/admin")

STATUSES = ("all", "local", "remote", "pending", "suspended", "silenced")


@blueprint.get("/accounts")
async def accounts() -> str:
    query = request.args.get("q", "")[:200]
    status = request.args.get("status", "all")
    found = await services().moderation.accounts(
        current_user(), query, status, max_id=query_id("max_id")
    )
    return await render_template(
        "admin_accounts.html", accounts=found, query=query, status=status, statuses=STATUSES
    )


async def _account_page(account_id: int, **extra: object) -> str:
    moderation = services().moderation
    staff = current_user()
    account = await moderation.account(staff, account_id)
    return await render_template(
        "admin_account.html",
        account=account,
        posts=await moderation.public_posts(staff, account_id),
        log=await moderation.log(staff, target_account_id=account_id),
        can_moderate=may(staff["role"] if staff else None, "moderate"),
        **extra,
    )


@blueprint.get("/accounts/<int:account_id>")
async def account(account_id: int) -> str:
    return await _account_page(account_id, done=request.args.get("done", ""))


@blueprint.post("/accounts/<int:account_id>/action")
async def account_action(account_id: int) -> Response:
    values = await form_fields("action", "reason")
    try:
        await services().moderation.act(
            current_user(), account_id, values["action"], values["reason"]
        )
    except GapoError as exc:
        if exc.status == 404:
            raise
        # The page again, with the reason as typed and the error next to it.
        body = await _account_page(
            account_id, error=message_of(exc), error_field=exc.field, values=values
        )
        return Response(body, status=exc.status, content_type="text/html; charset=utf-8")
    action = values["action"] if values["action"] in ACTIONS else ""
    return redirect(  # type: ignore[return-value]
        url_for("admin_accounts.account", account_id=account_id, done=action)
    )


@blueprint.get("/log")
async def log() -> str:
    staff = require(current_user(), "view")
    entries = await services().moderation.log(staff, max_id=query_id("max_id"))
    return await render_template("admin_log.html", entries=entries)
