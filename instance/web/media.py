"""Serves stored media at /media/<key>: only well-formed keys, cached for a long time."""

from __future__ import annotations

from quart import Blueprint, send_file
from quart.wrappers import Response

from instance.errors import NotFound
from instance.web.context import services

blueprint = Blueprint("media", __name__)

MEDIA_TYPES = {"webp": "image/webp", "png": "image/png", "jpg": "image/jpeg"}


@blueprint.get("/media/<key>")
async def serve(key: str) -> Response:
    # path_for refuses anything outside the key alphabet (no dots, no slashes): no traversal.
    path = services().media.storage.path_for(key)
    if path is None:
        raise NotFound()
    response = await send_file(path, mimetype=MEDIA_TYPES[key.rsplit(".", 1)[1]])
    # A key never changes content: a new upload gets a new key.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
