"""The notifications page: newest first, paged by id; viewing it marks what it shows read."""

from __future__ import annotations

from quart import Blueprint, render_template

from instance.web.context import require_user, services
from instance.web.forms import query_id

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
async def index() -> str:
    user = require_user()
    max_id = query_id("max_id")
    page = await services().notifications.read_page(user["account_id"], max_id)
    return await render_template(
        "notifications.html", notifications=page.items, next_max_id=page.next_max_id
    )
