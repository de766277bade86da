"""Per-route body limits: the few forms that take uploads may send more than other requests.

Quart fixes the body limit when the request object is made, before any handler or hook
runs, so the raised limit has to be chosen there, by path, in a request class of our own.
"""

from __future__ import annotations

from typing import Any

from quart.wrappers import Request

from instance.media.images import MAX_IMAGE_BYTES

# Two images (avatar and header) plus the form's text fields.
UPLOAD_LIMITS = {"/settings/profile": 2 * MAX_IMAGE_BYTES + 256 * 1024}


class UploadAwareRequest(Request):
    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        *args: Any,
        max_content_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        limit = UPLOAD_LIMITS.get(path) if method == "POST" else None
        if limit is not None and max_content_length is not None:
            max_content_length = max(max_content_length, limit)
        super().__init__(
            method, scheme, path, *args, max_content_length=max_content_length, **kwargs
        )
        if limit is not None:
            # The multipart parser reads this one (the app-wide setting otherwise).
            self.max_content_length = max(limit, max_content_length or 0)
