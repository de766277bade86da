"""The notifications page: newest first, paged by id; viewing it marks what it shows read."""

from __future__ import annotations

from quart import Blueprint, render_template, request

from instance.web.context import require_user, services

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
async def index() -> str:
    user = require_user()
    value = request.args.get("max_id", "")
    max_id = int(value) if value.isdigit() and len(value) < 20 else None
    page = await services().notifications.page(user["account_id"], max_id)
    # Read up to the newest one shown: whatever arrives while the page renders stays unread.
    if page.items:
        await services().notifications.mark_all_read(
            user["account_id"], up_to_id=max(int(n["id"]) for n in page.items)
        )
    return await render_template(
        "notifications.html", notifications=page.items, next_max_id=page.next_max_id
    )
