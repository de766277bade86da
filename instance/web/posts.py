"""Post pages and forms: compose, reply, edit, delete, like and share; the home feed."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, url_for
from quart.wrappers import Response

from instance.errors import GapoError, NotFound
from instance.web.context import require_user, services
from instance.web.errors import message_of
from instance.web.forms import form_fields, parse_id, query_id, safe_next

blueprint = Blueprint("posts", __name__)


def _viewer_id() -> int | None:
    user = g.get("user")
    return int(user["account_id"]) if user else None


async def _me() -> dict:  # type: ignore[type-arg]
    user = require_user()
    return await services().accounts.account(user["account_id"])


def _max_id() -> int | None:
    return query_id("max_id")


@blueprint.get("/home")
async def home() -> str:
    user = require_user()
    posts = await services().feeds.home(user["account_id"], max_id=_max_id())
    return await render_template("feed.html", posts=posts, title_key="home", compose=True)


@blueprint.get("/public/local")
async def local_timeline() -> str:
    posts = await services().feeds.local(max_id=_max_id(), viewer_id=_viewer_id())
    return await render_template("feed.html", posts=posts, title_key="local", compose=False)


@blueprint.get("/public")
async def federated_timeline() -> str:
    posts = await services().feeds.federated(max_id=_max_id(), viewer_id=_viewer_id())
    return await render_template("feed.html", posts=posts, title_key="federated", compose=False)


@blueprint.post("/posts")
async def create() -> Response:
    me = await _me()
    values = await form_fields("text", "summary", "visibility", "language", "in_reply_to", "next")
    reply_to = parse_id(values["in_reply_to"])
    try:
        post = await services().posts.create(
            me,
            values["text"],
            visibility=values["visibility"] or "public",
            summary=values["summary"],
            in_reply_to_id=reply_to,
            language=values["language"] or None,
        )
    except GapoError as exc:
        body = await render_template("error.html", status=exc.status, message=message_of(exc))
        return Response(body, status=exc.status, content_type="text/html; charset=utf-8")
    target = url_for("posts.show_any", post_id=reply_to or post["id"])
    return redirect(safe_next(values["next"]) if values["next"] else target)  # type: ignore[return-value]


async def _thread_page(post_id: int) -> str:
    viewer = _viewer_id()
    thread = await services().posts.thread(viewer, post_id)
    reactions = await services().posts.my_reactions(viewer, post_id)
    return await render_template(
        "post.html",
        post=thread.post,
        ancestors=thread.ancestors,
        replies=thread.replies,
        reactions=reactions,
    )


@blueprint.get("/@<username>/<int:post_id>")
async def show(username: str, post_id: int) -> str:
    post = await services().posts.get_visible(_viewer_id(), post_id)
    if not post["local"] or post["username"] != username:
        raise NotFound()
    return await _thread_page(post_id)


@blueprint.get("/p/<int:post_id>")
async def show_any(post_id: int) -> str:
    return await _thread_page(post_id)


@blueprint.get("/p/<int:post_id>/history")
async def history(post_id: int) -> str:
    post = await services().posts.get_visible(_viewer_id(), post_id)
    edits = await services().posts.history(_viewer_id(), post_id)
    return await render_template("post_history.html", post=post, edits=edits)


@blueprint.get("/p/<int:post_id>/edit")
async def edit_form(post_id: int) -> str:
    me = await _me()
    post = await services().posts.get_visible(me["id"], post_id)
    if post["account_id"] != me["id"]:
        raise NotFound()
    return await render_template("post_edit.html", post=post)


@blueprint.post("/p/<int:post_id>/edit")
async def edit(post_id: int) -> Response:
    me = await _me()
    values = await form_fields("text", "summary")
    await services().posts.edit(me, post_id, values["text"], values["summary"])
    return redirect(url_for("posts.show_any", post_id=post_id))  # type: ignore[return-value]


@blueprint.post("/p/<int:post_id>/delete")
async def delete(post_id: int) -> Response:
    me = await _me()
    await services().posts.delete(me, post_id)
    return redirect(url_for("profile.show", username=me["username"]))  # type: ignore[return-value]


@blueprint.post("/p/<int:post_id>/<action>")
async def react(post_id: int, action: str) -> Response:
    kinds = {
        "like": ("likes", False),
        "unlike": ("likes", True),
        "share": ("shares", False),
        "unshare": ("shares", True),
    }
    if action not in kinds:
        raise NotFound()
    me = await _me()
    kind, undo = kinds[action]
    await services().posts.react(me, post_id, kind, undo=undo)
    values = await form_fields("next")
    return redirect(
        safe_next(values["next"])
        if values["next"]
        else url_for(  # type: ignore[return-value]
            "posts.show_any", post_id=post_id
        )
    )
