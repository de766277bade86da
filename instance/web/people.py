"""People: search by handle or URL, profiles, follow / unfollow, block, mute, follower lists."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.accounts.profile_fields import stored_fields
from instance.errors import GapoError, NotFound
from instance.federation.lookup import RemotePreview
from instance.web.context import require_user, services
from instance.web.errors import message_of
from instance.web.forms import form_fields, parse_id, query_id, safe_next

blueprint = Blueprint("people", __name__)


@blueprint.get("/search")
async def search() -> str:
    query = request.args.get("q", "").strip()[:300]
    account = None
    error = None
    if query:
        try:
            account = await services().lookup.find(query)
        except GapoError as exc:
            error = message_of(exc)
    if account is not None:
        return await render_account(account)
    return await render_template("search.html", query=query, error=error)


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


PROFILE_PAGE_SIZE = 20


def _page_args() -> tuple[bool, int | None]:
    """The profile tab (with or without replies) and the paging cursor from the query."""
    with_replies = request.args.get("with_replies") == "1"
    max_id = query_id("max_id")
    return with_replies, max_id


async def render_account(account: dict) -> str:  # type: ignore[type-arg]
    user = g.get("user")
    viewer_id = user["account_id"] if user else None
    state = None
    blocking = blocked_by = muting = False
    if user is not None and user["account_id"] != account["id"]:
        rel = services().relationships
        state = await rel.state(user["account_id"], account["id"])
        blocking = await rel.is_blocked(user["account_id"], account["id"])
        blocked_by = await rel.is_blocked(account["id"], user["account_id"])
        muting = await services().mutes.is_muted(user["account_id"], account["id"])
    followers, following = await services().relationships.counts(account["id"])
    with_replies, max_id = _page_args()
    # Direct posts of a remote account are never listed on its profile, even to the mentioned.
    visibilities: tuple[str, ...] = ("public", "unlisted", "followers", "direct")
    if not account["local"]:
        visibilities = ("public", "unlisted", "followers")
    posts = await services().post_reader.by_account(
        viewer_id,
        account,
        visibilities=visibilities,
        limit=PROFILE_PAGE_SIZE,
        max_id=max_id,
        with_replies=with_replies,
    )
    preview = RemotePreview()
    # Only signed-in viewers make us ask the remote server (and then at most every few
    # minutes per account); anonymous viewers see what is stored here.
    if user is not None and not account["local"] and not (blocking or blocked_by):
        # Posts read from the remote server bypass can_see: a block hides them here too.
        preview = await services().lookup.remote_preview(account)
    if account["local"]:
        profile_url = url_for("profile.show", username=account["username"])
    else:
        profile_url = url_for("people.account_page", account_id=account["id"])
    return await render_template(
        "account.html",
        account=account,
        follow_state=state,
        blocking=blocking,
        blocked_by=blocked_by,
        muting=muting,
        fields=stored_fields(account["fields_json"]),
        # A remote account's own totals when its server tells them, never fewer than the
        # follows known here (the totals are cached for minutes; a new follow counts at once).
        followers_count=max(followers, preview.followers_total or 0),
        following_count=max(following, preview.following_total or 0),
        posts_count=await services().post_reader.public_count(account),
        posts=posts,
        remote_posts=preview.posts if max_id is None else [],
        my_reactions=await services().reactions.mine(viewer_id, posts),
        profile_url=profile_url,
        with_replies=with_replies,
        older_url=(
            f"{profile_url}?{'with_replies=1&' if with_replies else ''}max_id={posts[-1]['id']}"
            if len(posts) >= PROFILE_PAGE_SIZE
            else None
        ),
    )


@blueprint.get("/accounts/<int:account_id>")
async def account_page(account_id: int) -> str:
    account = await services().accounts.account(account_id)
    if account["suspended_at"] or account["ap_type"] == "Application":
        raise NotFound()
    return await render_account(account)


async def _target() -> tuple[dict, dict, str]:  # type: ignore[type-arg]
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
    await services().relationships.follow(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/unfollow")
async def unfollow() -> Response:
    me, target, next_url = await _target()
    await services().relationships.unfollow(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/block")
async def block() -> Response:
    me, target, next_url = await _target()
    await services().relationships.block(me, target)
    return redirect(next_url)  # type: ignore[return-value]


@blueprint.post("/unblock")
async def unblock() -> Response:
    me, target, next_url = await _target()
    await services().relationships.unblock(me, target)
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
        await services().relationships.approve(me, follower)
    else:
        await services().relationships.reject(me, follower)
    return redirect(url_for("people.follow_requests"))  # type: ignore[return-value]


PEOPLE_PAGE_SIZE = 40


async def _list(account_id: int, which: str) -> str:
    account = await services().accounts.account(account_id)
    user = g.get("user")
    page = await services().relationships.people_page(
        account_id,
        which,
        viewer_id=user["account_id"] if user else None,
        max_id=query_id("max_id"),
        limit=PEOPLE_PAGE_SIZE,
    )
    return await render_template(
        "people_list.html",
        account=account,
        people=page.accounts,
        which=which,
        next_max_id=page.next_max_id,
    )


@blueprint.get("/accounts/<int:account_id>/followers")
async def followers(account_id: int) -> str:
    return await _list(account_id, "followers")


@blueprint.get("/accounts/<int:account_id>/following")
async def following(account_id: int) -> str:
    return await _list(account_id, "following")
