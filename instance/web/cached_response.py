"""A cached document (bytes and ETag, `instance/federation/document_cache.py`) as a response.

The body is sent as it was encoded once; a request whose If-None-Match names the ETag gets
304 with no body (RFC 9110 §13.1.2: weak comparison, `*` matches any current document).
"""

from __future__ import annotations

from quart import request
from quart.wrappers import Response

from instance.federation.document_cache import CachedDocument


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match value names `etag` (also used by web/document_fast_path.py)."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def document_response(document: CachedDocument, content_type: str) -> Response:
    """200 with the document, or 304 when the client already holds this very version."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and etag_matches(if_none_match, document.etag):
        response = Response(b"", status=304, content_type=content_type)
    else:
        response = Response(document.body, content_type=content_type)
    response.headers["ETag"] = document.etag
    return response
