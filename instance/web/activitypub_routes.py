"""ActivityPub endpoints: actors (content-negotiated), inboxes, outbox, collections, notes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from quart import Blueprint, Quart, redirect, request, url_for
from quart.wrappers import Response

from activitypub.fetch import AP_CONTENT_TYPE
from activitypub.inbox import InboxError
from activitypub.outgoing import omit_empty_arrays
from activitypub.vocab import PUBLIC
from instance.errors import NotFound
from instance.federation.document_cache import CachedDocument
from instance.federation.documents import Gone
from instance.web.cached_response import document_response
from instance.web.context import add_vary, services
from instance.web.errors import message_of
from instance.web.forms import query_id
from instance.web.negotiation import request_prefers_activitypub

blueprint = Blueprint("ap", __name__)


@blueprint.app_errorhandler(Gone)
async def gone(exc: Gone) -> Response:
    """A deleted account's actor and collections: 410 with its Tombstone."""
    return ap_response(exc.document, status=410)


# Pages whose URL answers HTML or an ActivityPub document depending on Accept (the choice
# is made by instance.web.negotiation).
NEGOTIATED_ENDPOINTS = frozenset({"ap.actor", "ap.note", "profile.show", "posts.show"})
PUBLIC_CACHE = "max-age=60, public"
NO_CACHE = "private, no-store"


def ap_response(
    doc: dict[str, Any], status: int = 200, *, public: bool = True, signed: bool = False
) -> Response:
    """A document as activity+json.

    ``public``: an unsigned request gets this very answer, so shared caches may keep it
    briefly; anything else (a followers-only note, a page filtered for its signer) is
    ``private, no-store``. ``signed``: the answer depends on who signed the request, so
    caches must key it on the ``Signature`` header too.
    """
    response = Response(
        json.dumps(omit_empty_arrays(doc), ensure_ascii=False),
        status=status,
        content_type=AP_CONTENT_TYPE,
    )
    response.vary.add("Accept")
    if signed:
        response.vary.add("Signature")
    if status != 200:
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers["Cache-Control"] = PUBLIC_CACHE if public else NO_CACHE
    return response


def addressed_publicly(doc: dict[str, Any]) -> bool:
    """A note or activity anyone may fetch unsigned (public or unlisted)."""
    return PUBLIC in (*doc.get("to", ()), *doc.get("cc", ()))


def full_url() -> str:
    """The URL the client asked for, on our configured origin (never the Host header)."""
    path = request.full_path if request.query_string else request.path
    return services().urls.absolute(path)


def joined_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields as one mapping of lowercased names; repeated fields are joined with
    ", " as HTTP allows (the routes' and the inbox fast path's one rule)."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def header_map() -> dict[str, str]:
    """The request's headers, joined by `joined_headers`."""
    return joined_headers(request.headers.items())


async def _signer() -> Any:
    return await services().documents.signer(request.method, full_url(), header_map())


async def signed_answer(
    build: Callable[[Any], Awaitable[dict[str, Any]]], *, public_if_addressed: bool = False
) -> Response:
    """Serve what ``build(signer)`` gives the request's signer (None when unsigned).

    A missing or forbidden object answers 404, a deleted one 410 with its Tombstone; every
    answer carries ``Vary: Signature`` and only an unsigned-equivalent one may be cached.
    ``public_if_addressed``: a signed answer addressed to the public is unsigned-equivalent.
    """
    signer = await _signer()
    try:
        doc = await build(signer)
    except Gone as gone:
        return ap_response(gone.document, status=410, signed=True)
    except NotFound as missing:
        response = Response(
            json.dumps({"error": message_of(missing)}),
            status=404,
            content_type="application/json",
        )
        response.vary.add("Accept")
        response.vary.add("Signature")
        response.headers["Cache-Control"] = "no-store"
        return response
    public = signer is None or (public_if_addressed and addressed_publicly(doc))
    return ap_response(doc, public=public, signed=True)


def cached_ap_response(document: CachedDocument) -> Response:
    """A public document from the cache, with the headers `ap_response` gives it."""
    response = document_response(document, AP_CONTENT_TYPE)
    response.headers["Vary"] = "Accept"  # a fresh response: nothing to merge with
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


async def actor_response(username: str) -> Response:
    """The local actor's document (for /users/<name> and its profile page /@<name>)."""
    return cached_ap_response(await services().documents.actor_document(username))


async def note_response(username: str, post_id: int) -> Response:
    """The local note as its canonical id serves it (also for its page /@<name>/<id>)."""
    documents = services().documents
    return await signed_answer(
        lambda signer: documents.note(signer, username, post_id), public_if_addressed=True
    )


@blueprint.get("/users/<username>")
async def actor(username: str) -> Response:
    # The actor id, and its key id (`#main-key` never reaches us): JSON unless HTML is preferred.
    if not request_prefers_activitypub(canonical=True):
        return redirect(url_for("profile.show", username=username))  # type: ignore[return-value]
    return await actor_response(username)


@blueprint.get("/actor")
async def instance_actor() -> Response:
    documents = services().documents
    return cached_ap_response(
        await documents.instance_actor_document(services().instance_key["public_pem"])
    )


@blueprint.get("/actor/outbox")
async def instance_outbox() -> Response:
    # The instance actor signs fetches and never posts: its outbox is always empty.
    return ap_response(services().documents.instance_outbox())


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
    # 404 for unknown and suspended accounts, 410 for deleted ones; from the cache, which
    # the inbox fast path (web/inbox_fast_path.py) then also finds.
    await services().documents.actor_document(username)
    return await _receive()


def _int_arg(name: str) -> int | None:
    return query_id(name)


@blueprint.get("/users/<username>/outbox")
async def outbox(username: str) -> Response:
    documents = services().documents
    if not request.args.get("page"):
        # The collection itself (count and first page link) is the same for everyone.
        return ap_response(await documents.outbox(None, username, page=False, max_id=None))
    max_id = _int_arg("max_id")
    return await signed_answer(
        lambda signer: documents.outbox(signer, username, page=True, max_id=max_id)
    )


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
    if not request_prefers_activitypub(canonical=True):
        return redirect(url_for("posts.show", username=username, post_id=post_id))  # type: ignore[return-value]
    return await note_response(username, post_id)


@blueprint.get("/users/<username>/statuses/<int:post_id>/replies")
async def note_replies(username: str, post_id: int) -> Response:
    documents = services().documents
    page = bool(request.args.get("page"))
    return await signed_answer(
        lambda signer: documents.replies_collection(signer, username, post_id, page=page)
    )


@blueprint.get("/users/<username>/statuses/<int:post_id>/activity")
async def note_activity(username: str, post_id: int) -> Response:
    documents = services().documents
    return await signed_answer(
        lambda signer: documents.create_activity(signer, username, post_id),
        public_if_addressed=True,
    )


def install(app: Quart) -> None:
    # Machine endpoints are authenticated by HTTP signatures, not by CSRF tokens.
    app.config.setdefault("CSRF_EXEMPT_BLUEPRINTS", set()).add("ap")
    app.register_blueprint(blueprint)

    @app.after_request
    async def vary_on_accept(response: Response) -> Response:
        # HTML, redirect or JSON by Accept: every answer there (errors too) says so to caches.
        if request.endpoint in NEGOTIATED_ENDPOINTS:
            add_vary(response, "Accept")
        return response
