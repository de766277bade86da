"""/.well-known endpoints: WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

import json

from quart import Blueprint, Quart, request
from quart.wrappers import Response

from activitypub.nodeinfo import nodeinfo_content_type, nodeinfo_links
from instance.errors import N_, BadRequest
from instance.web.cached_response import document_response
from instance.web.context import services
from webfinger.server import JRD_CONTENT_TYPE, host_meta_json, host_meta_xml

blueprint = Blueprint("wellknown", __name__)


def _json(doc: object, content_type: str) -> Response:
    response = Response(json.dumps(doc, ensure_ascii=False), content_type=content_type)
    # WebFinger and NodeInfo are read by browsers' JavaScript on other sites too (RFC 7033 §5).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/.well-known/webfinger")
async def webfinger() -> Response:
    resource = request.args.get("resource", "")
    if not resource or len(resource) > 500:
        raise BadRequest(N_("The resource parameter is required."))
    document = await services().discovery.webfinger_document(resource)
    return document_response(document, JRD_CONTENT_TYPE)


@blueprint.get("/.well-known/host-meta")
async def host_meta() -> Response:
    if "json" in request.headers.get("Accept", "") or request.args.get("format") == "json":
        return _json(host_meta_json(services().urls.base_url), "application/json")
    response = Response(
        host_meta_xml(services().urls.base_url), content_type="application/xrd+xml; charset=utf-8"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/.well-known/host-meta.json")
async def host_meta_json_route() -> Response:
    return _json(host_meta_json(services().urls.base_url), "application/json")


@blueprint.get("/.well-known/nodeinfo")
async def nodeinfo_index() -> Response:
    return _json(nodeinfo_links(services().urls.base_url), "application/json")


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
