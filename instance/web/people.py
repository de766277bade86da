"""People: search by handle or URL, profiles, follow / unfollow, block, mute, follower lists."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import GapoError, NotFound
from instance.feeds.profiles import ProfilePage
from instance.web.context import Row, require_user, services
from instance.web.errors import message_of
from instance.web.forms import form_fields, parse_id, query_id, safe_next

blueprint = Blueprint("people", __name__)


@blueprint.get("/search")
async def search() -> str:
    """A handle or profile URL opens that profile; other words list people, tags and posts."""
    query = request.args.get("q", "").strip()[:300]
    error = None
    results = None
    if query:
        try:
            found = await services().search.search(viewer_id(), query, **page_args())
        except GapoError as exc:
            error = message_of(exc)
        else:
            if found.profile is not None:
                return await render_profile(found.profile)
            results = found.results
    return await render_template(
        "search.html", query=query, error=error, results=results, post_actions=True
    )


@blueprint.get("/authorize_interaction")
async def authorize_interaction() -> Response:
    """Where another server's "interact" button sends its reader (WebFinger's subscribe
    template): the account's profile, to follow it, or the post's page, to answer, like or
    share it. A visitor logs in first and comes back here (`next` keeps the query)."""
    require_user()
    target = await services().interactions.resolve(request.args.get("uri", "")[:4096])
    if target.post is not None:
        destination = url_for("posts.show_any", post_id=target.post["id"])
    elif target.account is not None and target.account["local"]:
        destination = url_for("profile.show", username=target.account["username"])
    else:
        assert target.account is not None
        destination = url_for("people.account_page", account_id=target.account["id"])
    return redirect(destination)  # type: ignore[return-value]


def page_args() -> dict[str, Any]:
    """The profile tab (with or without replies) and the paging cursor from the query."""
    return {"with_replies": request.args.get("with_replies") == "1", "max_id": query_id("max_id")}


def viewer_id() -> int | None:
    user = g.get("user")
    return int(user["account_id"]) if user else None


async def render_profile(page: ProfilePage) -> str:
    """The profile page of any account: its header, the viewer's controls, a page of posts."""
    account = page.profile.account
    if account.local:
        profile_url = url_for("profile.show", username=account.username)
    else:
        profile_url = url_for("people.account_page", account_id=account.id)
    with_replies = request.args.get("with_replies") == "1"
    older_url = None
    if page.next_max_id is not None:
        older_url = (
            f"{profile_url}?{'with_replies=1&' if with_replies else ''}max_id={page.next_max_id}"
        )
    return await render_template(
        "account.html",
        profile=page.profile,
        account=account,
        relationship=page.profile.relationship,
        posts=page.posts,
        remote_posts=page.remote_posts,
        post_actions=True,
        profile_url=profile_url,
        with_replies=with_replies,
        older_url=older_url,
    )


@blueprint.get("/accounts/<int:account_id>")
async def account_page(account_id: int) -> str:
    page = await services().profiles.of_id(viewer_id(), account_id, **page_args())
    return await render_profile(page)


async def _target() -> tuple[Row, Row, str]:
    user = require_user()
    values = await form_fields("account_id", "next")
    target_id = parse_id(values["account_id"])
    if target_id is None:
        raise NotFound()
    me = await services().accounts.account(user["account_id"])
    target = await services().accounts.account(target_id)
    # Decided before the action: a bad `next` only changes where the person lands.
    next_url = safe_next(values["next"], url_for("people.account_page", account_id=target["id"]))
    return me, target, next_url


@blueprint.post("/follow")
async def follow() -> Response:
    me, target, next_url = await _target()
    await services().relationship_writer.follow(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/unfollow")
async def unfollow() -> Response:
    me, target, next_url = await _target()
    await services().relationship_writer.unfollow(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/block")
async def block() -> Response:
    me, target, next_url = await _target()
    await services().relationship_writer.block(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/unblock")
async def unblock() -> Response:
    me, target, next_url = await _target()
    await services().relationship_writer.unblock(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/mute")
async def mute() -> Response:
    me, target, next_url = await _target()
    await services().mutes.mute(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/unmute")
async def unmute() -> Response:
    me, target, next_url = await _target()
    await services().mutes.unmute(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.get("/follow_requests")
async def follow_requests() -> str:
    user = require_user()
    requests = await services().relationships.pending_requests(user["account_id"])
    return await render_template("follow_requests.html", requests=requests)


@blueprint.post("/follow_requests/<action>")
async def answer_request(action: str) -> Response:
    if action not in ("approve", "reject"):
        raise NotFound()
    me, follower, _ = await _target()
    if action == "approve":
        await services().relationship_writer.approve(me, follower)
    else:
        await services().relationship_writer.reject(me, follower)
    return redirect(url_for("people.follow_requests"))  # type: ignore[return-value]


PEOPLE_PAGE_SIZE = 40


async def _list(account_id: int, which: str) -> str:
    user = g.get("user")
    page = await services().relationships.people_page(
        account_id,
        which,
        viewer_id=user["account_id"] if user else None,
        max_id=query_id("max_id"),
        limit=PEOPLE_PAGE_SIZE,
    )
    return await render_template("people_list.html", page=page)


@blueprint.get("/accounts/<int:account_id>/followers")
async def followers(account_id: int) -> str:
    return await _list(account_id, "followers")


@blueprint.get("/accounts/<int:account_id>/following")
async def following(account_id: int) -> str:
    return await _list(account_id, "following")
