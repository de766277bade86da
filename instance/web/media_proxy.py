"""Serves remote files from this origin at /media/proxy/<sha256 of the URL>.

The page's `img`/`video` tags point here, so a reader's browser never contacts a remote
server (see `instance/media/remote.py`). The file goes out with the type sniffed from its
bytes, never a peer's word, and `nosniff`, so a browser cannot be talked into running it.
"""

from __future__ import annotations

from quart import Blueprint
from quart.wrappers import Response

from instance.errors import NotFound
from instance.web.context import services
from instance.web.stored_files import stored_file

blueprint = Blueprint("media_proxy", __name__)

# A day: long enough that a timeline scroll is served from the browser's cache, short
# enough that a copy pruned or refused later does not linger in browsers for weeks.
MAX_AGE = 86400


@blueprint.get("/media/proxy/<url_hash>")
async def serve(url_hash: str) -> Response:
    served = await services().remote_media.open(url_hash)
    if served is None:
        raise NotFound()
    response = await stored_file(services().remote_media.storage, served.key, served.media_type)
    if response.status_code != 302:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.headers["Content-Disposition"] = "inline"
    return response
