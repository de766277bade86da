"""Profile pages at /@username: HTML for browsers, the actor document for ActivityPub."""

from __future__ import annotations

from quart import Blueprint, g
from quart.wrappers import Response

from instance.web.activitypub_routes import actor_response
from instance.web.context import services
from instance.web.negotiation import request_prefers_activitypub
from instance.web.people import page_args, render_profile, viewer_id

blueprint = Blueprint("profile", __name__)


@blueprint.get("/@<username>")
async def show(username: str) -> str | Response:
    # The actor's `url`: Mastodon serves the actor here too when asked for ActivityPub.
    if request_prefers_activitypub(canonical=False):
        return await actor_response(username)
    page = await services().profiles.of_username(viewer_id(), username, **page_args())
    g.activitypub_alternate = services().urls.actor(page.profile.account.username)
    return await render_profile(page)
