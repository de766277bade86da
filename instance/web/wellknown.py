"""/.well-known endpoints: WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

from quart import Blueprint, Quart, request
from quart.wrappers import Response

from activitypub.nodeinfo import nodeinfo_content_type
from instance.errors import N_, BadRequest
from instance.web.cached_response import document_response
from instance.web.context import services
from instance.web.negotiation import host_meta_as_json
from webfinger.server import JRD_CONTENT_TYPE

blueprint = Blueprint("wellknown", __name__)

# A longer `resource` is refused (400) before it is parsed.
MAX_RESOURCE = 500
HOST_META_XML = "application/xrd+xml; charset=utf-8"
HOST_META_JSON = NODEINFO_LINKS = "application/json"


def _json(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    # WebFinger and NodeInfo are read by browsers' JavaScript on other sites too (RFC 7033 §5).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/.well-known/webfinger")
async def webfinger() -> Response:
    resource = request.args.get("resource", "")
    if not resource or len(resource) > MAX_RESOURCE:
        raise BadRequest(N_("The resource parameter is required."))
    document = await services().discovery.webfinger_document(resource)
    return document_response(document, JRD_CONTENT_TYPE)


@blueprint.get("/.well-known/host-meta")
async def host_meta() -> Response:
    as_json = host_meta_as_json(request.headers.get("Accept"), request.args.get("format"))
    document = await services().discovery.host_meta_document(as_json=as_json)
    return _json(document.body, HOST_META_JSON if as_json else HOST_META_XML)


@blueprint.get("/.well-known/host-meta.json")
async def host_meta_json_route() -> Response:
    document = await services().discovery.host_meta_document(as_json=True)
    return _json(document.body, HOST_META_JSON)


@blueprint.get("/.well-known/nodeinfo")
async def nodeinfo_index() -> Response:
    document = await services().discovery.nodeinfo_links_document()
    return _json(document.body, NODEINFO_LINKS)


@blueprint.get("/nodeinfo/<version>")
async def nodeinfo(version: str) -> Response:
    document = await services().discovery.nodeinfo_document(version)
    return document_response(document, nodeinfo_content_type(version))


@blueprint.after_request
async def allow_any_origin(response: Response) -> Response:
    # Errors too: a script on another site must be able to read "no such account" (404).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def install(app: Quart) -> None:
    app.register_blueprint(blueprint)
