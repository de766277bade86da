"""Hashtag pages: `/tags/<name>` lists the public posts carrying the tag, newest first."""

from __future__ import annotations

from quart import Blueprint, g, render_template

from instance.web.context import services
from instance.web.forms import query_id

blueprint = Blueprint("tags", __name__)


@blueprint.get("/tags/<name>")
async def show(name: str) -> str:
    # Any case or Unicode form of the name works: the service normalises it to the tag's key.
    user = g.get("user")
    viewer = int(user["account_id"]) if user else None
    max_id = query_id("max_id")
    page = await services().tags.page(viewer, name, max_id=max_id)
    return await render_template("tag.html", page=page, post_actions=True)
