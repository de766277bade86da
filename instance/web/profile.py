"""Profile pages at /@username: HTML for browsers, the actor document for ActivityPub."""

from __future__ import annotations

from quart import Blueprint, g
from quart.wrappers import Response

from instance.web.activitypub_routes import actor_response
from instance.web.context import services
from instance.web.negotiation import request_prefers_activitypub
from instance.web.people import render_account

blueprint = Blueprint("profile", __name__)


@blueprint.get("/@<username>")
async def show(username: str) -> str | Response:
    # The actor's `url`: Mastodon serves the actor here too when asked for ActivityPub.
    if request_prefers_activitypub(canonical=False):
        return await actor_response(username)
    account = await services().accounts.profile(username)
    g.activitypub_alternate = services().urls.actor(account["username"])
    return await render_account(account)
