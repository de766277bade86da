"""ActivityPub endpoints: actors (content-negotiated), inboxes, outbox, collections, notes."""

from __future__ import annotations

import json
from typing import Any

from quart import Blueprint, Quart, redirect, request, url_for
from quart.wrappers import Response

from activitypub.fetch import AP_CONTENT_TYPE
from activitypub.inbox import InboxError
from instance.federation.documents import Gone
from instance.web.context import services
from instance.web.forms import query_id

blueprint = Blueprint("ap", __name__)

AP_TYPES = ("application/activity+json", "application/ld+json")


def wants_activitypub() -> bool:
    """True for `application/activity+json` or `application/ld+json; profile=…AS` clients."""
    accept = request.headers.get("Accept", "")
    return any(t in accept for t in AP_TYPES)


def ap_response(doc: dict[str, Any], status: int = 200) -> Response:
    response = Response(
        json.dumps(doc, ensure_ascii=False), status=status, content_type=AP_CONTENT_TYPE
    )
    response.vary.add("Accept")
    # Public documents may be cached briefly; private ones never.
    response.headers["Cache-Control"] = "max-age=60, public" if status == 200 else "no-store"
    return response


def full_url() -> str:
    """The URL the client asked for, on our configured origin (never the Host header)."""
    path = request.full_path if request.query_string else request.path
    return services().settings.base_url + path


def header_map() -> dict[str, str]:
    """Request headers as one mapping; repeated fields are joined as HTTP allows."""
    joined: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


async def _signer() -> Any:
    return await services().documents.signer(request.method, full_url(), header_map())


@blueprint.get("/users/<username>")
async def actor(username: str) -> Response:
    if not wants_activitypub():
        return redirect(url_for("profile.show", username=username))  # type: ignore[return-value]
    return ap_response(await services().documents.actor(username))


@blueprint.get("/actor")
async def instance_actor() -> Response:
    doc = await services().documents.instance_actor(services().instance_key["public_pem"])
    return ap_response(doc)


async def _receive() -> Response:
    body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    assert isinstance(body, bytes)
    try:
        await services().inbox.receive(request.method, full_url(), header_map(), body)
    except InboxError as exc:
        if exc.status < 300:  # e.g. a Delete from an actor that is already gone
            return Response("", status=exc.status)
        return Response(
            json.dumps({"error": exc.reason}), status=exc.status, content_type="application/json"
        )
    return Response("", status=202)


@blueprint.post("/inbox")
async def shared_inbox() -> Response:
    return await _receive()


@blueprint.post("/actor/inbox")
async def instance_inbox() -> Response:
    return await _receive()


@blueprint.post("/users/<username>/inbox")
async def user_inbox(username: str) -> Response:
    await services().documents.actor(username)  # 404 for unknown accounts
    return await _receive()


def _int_arg(name: str) -> int | None:
    return query_id(name)


@blueprint.get("/users/<username>/outbox")
async def outbox(username: str) -> Response:
    doc = await services().documents.outbox(
        await _signer(),
        username,
        page=bool(request.args.get("page")),
        max_id=_int_arg("max_id"),
    )
    return ap_response(doc)


@blueprint.get("/users/<username>/followers")
async def followers(username: str) -> Response:
    doc = await services().documents.follow_collection(
        username, "followers", page=bool(request.args.get("page")), max_id=_int_arg("max_id")
    )
    return ap_response(doc)


@blueprint.get("/users/<username>/following")
async def following(username: str) -> Response:
    doc = await services().documents.follow_collection(
        username, "following", page=bool(request.args.get("page")), max_id=_int_arg("max_id")
    )
    return ap_response(doc)


@blueprint.get("/users/<username>/collections/featured")
async def featured(username: str) -> Response:
    return ap_response(await services().documents.featured(username))


@blueprint.get("/users/<username>/statuses/<int:post_id>")
async def note(username: str, post_id: int) -> Response:
    if not wants_activitypub():
        return redirect(url_for("posts.show", username=username, post_id=post_id))  # type: ignore[return-value]
    try:
        doc = await services().documents.note(await _signer(), username, post_id)
    except Gone as gone:
        return ap_response(gone.document, status=410)
    return ap_response(doc)


@blueprint.get("/users/<username>/statuses/<int:post_id>/replies")
async def note_replies(username: str, post_id: int) -> Response:
    try:
        doc = await services().documents.replies_collection(
            await _signer(), username, post_id, page=bool(request.args.get("page"))
        )
    except Gone as gone:
        return ap_response(gone.document, status=410)
    return ap_response(doc)


@blueprint.get("/users/<username>/statuses/<int:post_id>/activity")
async def note_activity(username: str, post_id: int) -> Response:
    try:
        doc = await services().documents.create_activity(await _signer(), username, post_id)
    except Gone as gone:
        return ap_response(gone.document, status=410)
    return ap_response(doc)


def install(app: Quart) -> None:
    # Machine endpoints are authenticated by HTTP signatures, not by CSRF tokens.
    app.config.setdefault("CSRF_EXEMPT_BLUEPRINTS", set()).add("ap")
    app.register_blueprint(blueprint)
