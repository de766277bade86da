"""Per-route body limits: the few forms that take uploads may send more than other requests.

Quart fixes the body limit when the request object is made, before any handler or hook
runs, so the raised limit has to be chosen there, by path, in a request class of our own
(one per app, made from its settings). The attachment routes read their bodies through
`upload_stream`, which counts every byte against each file's own limit; the limit here
only refuses at once a body whose announced Content-Length could never fit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from quart.wrappers import Request

from instance.config import Settings
from instance.media.images import MAX_IMAGE_BYTES

FORM_ALLOWANCE = 256 * 1024  # the text fields and multipart framing around the files
# The multipart routes whose CSRF token `upload_stream` checks itself, while it streams.
STREAMED_ENDPOINTS = frozenset({"media.upload", "posts.create"})


class UploadAwareRequest(Request):
    limits: ClassVar[dict[str, int]] = {
        # Two images (avatar and header) plus the form's text fields.
        "/settings/profile": 2 * MAX_IMAGE_BYTES + FORM_ALLOWANCE,
    }

    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        *args: Any,
        max_content_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        limit = self.limits.get(path) if method == "POST" else None
        if limit is not None and max_content_length is not None:
            max_content_length = max(max_content_length, limit)
        super().__init__(
            method, scheme, path, *args, max_content_length=max_content_length, **kwargs
        )
        if limit is not None:
            # The multipart parser reads this one (the app-wide setting otherwise).
            self.max_content_length = max(limit, max_content_length or 0)


def request_class_for(settings: Settings) -> type[UploadAwareRequest]:
    """The request class of an app: its upload routes' limits come from its settings."""
    largest = max(settings.max_video_bytes, settings.max_image_bytes)
    limits = {
        **UploadAwareRequest.limits,
        "/media": largest + FORM_ALLOWANCE,
        "/posts": 4 * largest + FORM_ALLOWANCE,
    }
    return type("AppRequest", (UploadAwareRequest,), {"limits": limits})
