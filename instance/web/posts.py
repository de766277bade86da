"""Post pages and forms: compose, reply, edit, delete, like and share; the home feed."""

from __future__ import annotations

from quart import Blueprint, g, jsonify, redirect, render_template, url_for
from quart.wrappers import Response

from instance.errors import N_, BadRequest, GapoError, NotFound
from instance.feeds.service import FeedPage
from instance.feeds.suggestions import Welcome
from instance.posts.attachments import MAX_ATTACHMENTS
from instance.posts.reading import Thread
from instance.posts.service import MediaChoice
from instance.web.context import Row, require_user, services
from instance.web.feed_page import render_feed_page
from instance.web.forms import form_fields, form_with_error, parse_id, query_id, safe_next
from instance.web.negotiation import request_prefers_activitypub
from instance.web.post_forms import post_form
from instance.web.sync_templates import with_template_globals

blueprint = Blueprint("posts", __name__)


def _viewer_id() -> int | None:
    user = g.get("user")
    return int(user["account_id"]) if user else None


async def _me() -> Row:
    user = require_user()
    return await services().accounts.account(user["account_id"])


def _max_id() -> int | None:
    return query_id("max_id")


# The "new posts" poll of each feed (static/feed.js).
NEWER_ENDPOINTS = {
    "home": "posts.home_newer",
    "local": "posts.local_newer",
    "federated": "posts.federated_newer",
}


async def _feed(page: FeedPage, title_key: str, welcome: Welcome | None = None) -> str:
    # Rendered synchronously; the cards and the page around them are cut from caches
    # (web/feed_cards.py, web/feed_page.py).
    context = await with_template_globals(
        {
            "title_key": title_key,
            "compose": title_key == "home",
            "post_actions": True,
            "welcome": welcome,
        }
    )
    posts = page.posts
    since = (posts[0].feed_id or posts[0].id) if posts else 0
    return render_feed_page(
        context,
        posts,
        newer_url=url_for(NEWER_ENDPOINTS[title_key], since=since),
        next_max_id=page.next_max_id,
    )


async def _newer(which: str, viewer_id: int | None) -> Response:
    """`{"count": n, "capped": bool}`: entries above `since` (polled by static/app.js)."""
    since = query_id("since")
    if since is None:
        raise BadRequest(N_("The request is not valid."))
    found = await services().feeds.newer(which, since, viewer_id=viewer_id)
    response = jsonify({"count": found.count, "capped": found.capped})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/home/newer")
async def home_newer() -> Response:
    return await _newer("home", int(require_user()["account_id"]))


@blueprint.get("/public/local/newer")
async def local_newer() -> Response:
    return await _newer("local", _viewer_id())


@blueprint.get("/public/newer")
async def federated_newer() -> Response:
    return await _newer("federated", _viewer_id())


@blueprint.get("/home")
async def home() -> str:
    user = require_user()
    page = await services().home.page(user["account_id"], max_id=_max_id())
    return await _feed(page.feed, "home", page.welcome)


@blueprint.get("/public/local")
async def local_timeline() -> str:
    page = await services().feeds.local(max_id=_max_id(), viewer_id=_viewer_id())
    return await _feed(page, "local")


@blueprint.get("/public")
async def federated_timeline() -> str:
    page = await services().feeds.federated(max_id=_max_id(), viewer_id=_viewer_id())
    return await _feed(page, "federated")


@blueprint.post("/posts")
async def create() -> Response:
    me = await _me()
    async with post_form(with_files=True) as form:
        values = form.fields("text", "summary", "visibility", "language", "in_reply_to", "next")
        reply_to = parse_id(values["in_reply_to"])
        # Checked before posting: a bad `next` must not turn a saved post into an error page.
        next_url = safe_next(values["next"], default="")  # "": the new post, once it has an id
        try:
            if values["in_reply_to"] and reply_to is None:
                # Never post top-level when the form meant a reply.
                raise BadRequest(N_("The post to reply to is not valid."), field="in_reply_to")
            media = form.media()
            # Files sent with the form itself (a browser without JavaScript).
            sent = []
            for received in form.files[: max(0, MAX_ATTACHMENTS - len(media))]:
                view = await services().uploads.upload(me["id"], received.path, received.sniffed)
                sent.append(MediaChoice(view.id))
            # Only those: a page without JavaScript has nothing else to wait with; an upload
            # made by the script and still processing is refused below with a reason.
            await services().uploads.wait_ready([c.media_id for c in sent])
            media += sent
            post = await services().posts.create(
                me,
                values["text"],
                visibility=values["visibility"] or "public",
                summary=values["summary"],
                in_reply_to_id=reply_to,
                language=values["language"] or None,
                media=media,
                sensitive=bool(form.get("sensitive")),
            )
        except GapoError as exc:
            # The compose form again, with what was typed, so nothing is lost.
            return await form_with_error("compose.html", exc, draft=values)
    if next_url and reply_to is None and "#" not in next_url:
        # Back on the feed, at the new post (its card's id, see templates/_post.html).
        next_url += f"#post-{post['id']}-card"
    target = next_url or url_for("posts.show_any", post_id=reply_to or post["id"])
    return redirect(target)  # type: ignore[return-value]


async def _thread_page(thread: Thread) -> str:
    return await render_template(
        "post.html",
        post=thread.post,
        ancestors=thread.ancestors,
        replies=thread.replies,
        post_actions=True,
    )


@blueprint.get("/@<username>/<int:post_id>")
async def show(username: str, post_id: int) -> str | Response:
    from instance.web.activitypub_routes import note_response

    # The note's `url`: an ActivityPub client gets the note, as from its canonical id.
    if request_prefers_activitypub(canonical=False):
        return await note_response(username, post_id)
    thread = await services().post_reader.thread(_viewer_id(), post_id)
    if not thread.post.local or thread.post.author.username != username:
        raise NotFound()
    if thread.post.visibility in ("public", "unlisted"):
        g.activitypub_alternate = services().urls.note(username, post_id)
    return await _thread_page(thread)


@blueprint.get("/p/<int:post_id>")
async def show_any(post_id: int) -> str:
    return await _thread_page(await services().post_reader.thread(_viewer_id(), post_id))


@blueprint.get("/p/<int:post_id>/history")
async def history(post_id: int) -> str:
    page = await services().post_reader.history(_viewer_id(), post_id)
    return await render_template("post_history.html", post=page.post, edits=page.edits)


async def _reactors(post_id: int, kind: str) -> str:
    page = await services().reactions.who(_viewer_id(), post_id, kind, max_id=_max_id())
    return await render_template("reactors.html", page=page)


@blueprint.get("/p/<int:post_id>/likes")
async def likes(post_id: int) -> str:
    return await _reactors(post_id, "likes")


@blueprint.get("/p/<int:post_id>/shares")
async def shares(post_id: int) -> str:
    return await _reactors(post_id, "shares")


@blueprint.get("/p/<int:post_id>/edit")
async def edit_form(post_id: int) -> str:
    me = await _me()
    post = await services().post_reader.get_visible(me["id"], post_id)
    if post["account_id"] != me["id"]:
        raise NotFound()
    view = await services().post_reader.view(me["id"], post_id)
    return await render_template("post_edit.html", post=post, media=view.media)


@blueprint.post("/p/<int:post_id>/edit")
async def edit(post_id: int) -> Response:
    me = await _me()
    async with post_form(with_files=False) as form:
        values = form.fields("text", "summary")
        media = form.media() if form.names_media() else None
    await services().posts.edit(me, post_id, values["text"], values["summary"], media=media)
    return redirect(url_for("posts.show_any", post_id=post_id))  # type: ignore[return-value]


@blueprint.get("/p/<int:post_id>/delete")
async def delete_form(post_id: int) -> str:
    """The confirmation page (the post page opens the same question as a dialog with JS)."""
    me = await _me()
    view = await services().post_reader.view(me["id"], post_id)
    if view.author.id != me["id"]:
        raise NotFound()
    return await render_template("post_delete.html", post=view)


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
    values = await form_fields("next")
    next_url = safe_next(values["next"], url_for("posts.show_any", post_id=post_id))
    await services().posts.react(me, post_id, kind, undo=undo)
    return redirect(next_url)  # type: ignore[return-value]
