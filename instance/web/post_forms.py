"""The compose and edit forms' fields, from a plain form or a streamed multipart one.

A compose form with a file input is multipart (`upload_stream` reads it as it arrives); one
without is urlencoded (Quart's form). Both give the same fields here, and the attachments
the author chose: `media_ids` in order, with `description_<id>` and `focus_<id>`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from quart import request

from instance.posts.attachments import MAX_ATTACHMENTS
from instance.posts.service import MediaChoice, parse_focus
from instance.web.context import settings
from instance.web.forms import MAX_FIELD, parse_id
from instance.web.upload_stream import (
    ReceivedFile,
    UploadLimits,
    is_multipart,
    read_streamed_form,
)


@dataclass
class PostForm:
    values: dict[str, list[str]]
    files: list[ReceivedFile] = field(default_factory=list)

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return (found[0] if found else "")[:MAX_FIELD]

    def fields(self, *names: str) -> dict[str, str]:
        return {name: self.get(name) for name in names}

    def media(self) -> list[MediaChoice]:
        """The uploads chosen, in order, without those marked `remove_<id>` (edit page)."""
        chosen: list[MediaChoice] = []
        for raw in self.values.get("media_ids", [])[: MAX_ATTACHMENTS * 2]:
            media_id = parse_id(raw)
            if media_id is None or any(c.media_id == media_id for c in chosen):
                continue
            if self.get(f"remove_{media_id}"):
                continue
            chosen.append(
                MediaChoice(
                    media_id,
                    description=(
                        self.get(f"description_{media_id}")
                        if f"description_{media_id}" in self.values
                        else None
                    ),
                    focus=(
                        parse_focus(self.get(f"focus_{media_id}"))
                        if f"focus_{media_id}" in self.values
                        else None
                    ),
                )
            )
        return chosen

    def names_media(self) -> bool:
        return "media_ids" in self.values


@asynccontextmanager
async def post_form(*, with_files: bool) -> AsyncIterator[PostForm]:
    """The request's form; uploaded files live until the block ends."""
    if with_files and is_multipart():
        config = settings()
        limits = UploadLimits(config.max_image_bytes, config.max_video_bytes, MAX_ATTACHMENTS)
        streamed = await read_streamed_form(limits, config.data_dir / "tmp", file_fields=("files",))
        try:
            yield PostForm(streamed.fields, streamed.files)
        finally:
            await asyncio.to_thread(streamed.close)
        return
    form = await request.form
    yield PostForm({name: form.getlist(name) for name in form})
