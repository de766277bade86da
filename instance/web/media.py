"""Media over HTTP: uploads (`POST /media`), their state, and the stored files themselves.

Files are served with the type of what they are (the server wrote every one of them),
`nosniff`, `Content-Disposition: inline` with a name of our own, byte ranges for video
seeking, and a long immutable cache (a key never changes content). Nothing stored is ever
served as HTML or as JSON, so an upload cannot pose as a page or an ActivityPub document.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from quart import Blueprint, request
from quart.wrappers import Response

from instance.errors import N_, NotFound, ValidationFailed
from instance.i18n import gettext
from instance.media.storage import IMMUTABLE, media_type_of, valid_key
from instance.media.views import MediaView
from instance.posts.service import parse_focus
from instance.web.context import require_user, services, settings
from instance.web.stored_files import stored_file
from instance.web.upload_stream import UploadLimits, read_streamed_form

blueprint = Blueprint("media", __name__)


def upload_limits(max_files: int) -> UploadLimits:
    config = settings()
    return UploadLimits(config.max_image_bytes, config.max_video_bytes, max_files)


def _here_origin() -> str:
    """The origin this request came to when it is one of ours (the base URL, an alternate
    host, the onion service), else the base URL: never an origin a Host header made up."""
    config = settings()
    asked = f"{request.scheme}://{request.host}".lower()
    ours = {config.base_url, *(o for o in config.alternate_hosts.split(",") if o)}
    return asked if asked in ours else config.base_url


def absolute_here(url: str | None) -> str | None:
    """One of our files as an absolute URL on the origin of this request, so the composer
    on the onion service loads its previews from the onion origin (its CSP allows only
    its own), and any client gets a URL it can use as it is, as Mastodon's API gives."""
    urls = services().urls
    if not url or not urls.is_local(url):
        return url
    return _here_origin() + url[len(urls.base_url) :]


def media_json(view: MediaView, error: str | None = None) -> dict[str, Any]:
    """What the composer's script reads of an upload (a small subset of Mastodon's)."""
    return {
        "id": str(view.id),
        "kind": view.kind,
        "state": view.state,
        "url": absolute_here(view.url),
        "preview_url": absolute_here(view.preview_url),
        "width": view.width,
        "height": view.height,
        "blurhash": view.blurhash,
        "description": view.description,
        "error": gettext(error) if error else None,
    }


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@blueprint.post("/media")
async def upload() -> Response:
    me = require_user()
    await services().upload_limiter.hit(str(me["account_id"]))
    form = await read_streamed_form(
        upload_limits(1), settings().data_dir / "tmp", file_fields=("file",)
    )
    try:
        if not form.files:
            raise ValidationFailed(N_("Choose a file to upload."), field="file")
        received = form.files[0]
        view = await services().uploads.upload(
            me["account_id"],
            received.path,
            received.sniffed,
            description=form.get("description"),
            focus=parse_focus(form.get("focus")),
        )
    finally:
        await asyncio.to_thread(form.close)
    return _json(media_json(view), 200 if view.state == "ready" else 202)


@blueprint.get("/media/<int:media_id>/state")
async def state(media_id: int) -> Response:
    me = require_user()
    view, error = await services().uploads.state(me["account_id"], media_id)
    response = _json(media_json(view, error), 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/media/<key>")
async def serve(key: str) -> Response:
    # Anything outside the key alphabet (no dots, no slashes) is refused: no traversal.
    if not valid_key(key):
        raise NotFound()
    response = await stored_file(services().media.storage, key, media_type_of(key))
    if response.status_code != 302:
        response.headers["Cache-Control"] = IMMUTABLE
        response.headers["Content-Disposition"] = f'inline; filename="{key}"'
    return response
