"""The admin dashboard page (`/admin`): charts drawn on the server, numbers beside them."""

from __future__ import annotations

from quart import Blueprint, render_template

from instance.web.context import current_user, services

blueprint = Blueprint("admin_dashboard", __name__, url_prefix="/admin")


def filesize(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover (the loop returns)


@blueprint.get("")
async def dashboard() -> str:
    board = await services().dashboard.build(current_user())
    return await render_template("admin_dashboard.html", board=board, filesize=filesize)
