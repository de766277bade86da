"""The notifications page: newest first, grouped, paged by id, filtered (all or mentions);
viewing it marks what it shows read."""

from __future__ import annotations

from quart import Blueprint, render_template, request

from instance.feeds.notifications import FILTERS
from instance.web.context import require_user, services
from instance.web.forms import query_id

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
async def index() -> str:
    user = require_user()
    max_id = query_id("max_id")
    only = request.args.get("filter", "all")
    if only not in FILTERS:
        only = "all"
    page = await services().notifications.read_page(user["account_id"], max_id, only=only)
    return await render_template(
        "notifications.html",
        notifications=page.items,
        groups=page.groups,
        only=only,
        next_max_id=page.next_max_id,
    )
