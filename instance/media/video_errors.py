"""The refusals of the video pipeline, as errors a client may see (instance.errors)."""

from __future__ import annotations

from instance.errors import N_, PayloadTooLarge, ValidationFailed


class VideoRejected(ValidationFailed):
    """Not a video, not one of the accepted containers or codecs, or it does not decode."""

    message = N_("That file is not a video Gapo can use. Upload an MP4, WebM or MOV video.")


class VideoTooLong(ValidationFailed):
    """Raised with `seconds=` the limit, so the message names it."""

    message = N_("That video is too long. Upload one of at most %(seconds)d seconds.")


class VideoTooLarge(PayloadTooLarge):
    """The frame is beyond the pixel limit (a decoding bomb, or a camera Gapo cannot serve).

    Raised with `megapixels=` the limit, so the message names it."""

    message = N_(
        "That video's picture is too large. Upload one of at most %(megapixels)d megapixels."
    )
