"""A stored file as an HTTP answer, whichever backend holds it (`MediaStorage.deliver`).

A local file goes out through Quart's `send_file` (ranges, conditional requests); a file in
a bucket is a redirect to the store or its bytes streamed through, as the admin chose
(`GAPO_S3_SERVING`). Either way the headers that keep an upload from posing as a page
(`nosniff`, the type Gapo decided) are the route's, given here.
"""

from __future__ import annotations

from quart import request, send_file
from quart.wrappers import Response

from instance.errors import NotFound
from instance.media.storage import LocalFile, MediaStorage, Redirect, Streamed


async def stored_file(storage: MediaStorage, key: str, media_type: str) -> Response:
    """The answer to a GET of `key`; NotFound when the storage has no such file."""
    etag = f'"{key}"'
    delivery = None
    if request.headers.get("If-None-Match") != etag:
        delivery = await storage.deliver(key, request.headers.get("Range"))
        if delivery is None:
            raise NotFound()
    response: Response
    if isinstance(delivery, LocalFile):
        response = await send_file(delivery.path, mimetype=media_type, conditional=True)
    elif isinstance(delivery, Redirect):
        response = Response("", status=302, headers={"Location": delivery.url})
        response.headers["Cache-Control"] = f"private, max-age={delivery.max_age}"
        return response
    elif isinstance(delivery, Streamed):
        if request.method == "HEAD":
            await delivery.release()
            response = Response(b"", status=delivery.status, mimetype=media_type)
        else:
            response = Response(delivery.chunks, status=delivery.status, mimetype=media_type)
        response.headers["Content-Length"] = str(delivery.length)
        if delivery.content_range:
            response.headers["Content-Range"] = delivery.content_range
        response.headers["ETag"] = etag
    else:
        # The key names immutable bytes: a browser holding this ETag holds this file.
        response = Response("", status=304)
        response.headers["ETag"] = etag
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Accept-Ranges"] = "bytes"
    return response
