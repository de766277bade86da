"""Multipart uploads read as they stream in: files go to disk, limits apply byte by byte.

Quart's own form parser is fine for forms, but its size check sees only the bytes not yet
handed to the parser, so a body without a Content-Length could grow a file without bound.
Here every byte is counted as it arrives; a file's type is sniffed from its first bytes,
which chooses its limit (photos 16 MB, videos 99 MB by default), and the request is answered
413 the moment a file passes it, without reading the rest. The CSRF token is checked
before the first byte of a file is written (a forged form stores nothing): from the
`X-CSRF-Token` header, or a `csrf_token` field that precedes the files, as the forms do.

Files are written to a private work directory under names the server chooses; the client's
file name is never used for anything.
"""

from __future__ import annotations

import asyncio
import hmac
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from quart import request, session
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from instance.errors import N_, BadRequest, CsrfFailed, PayloadTooLarge, ValidationFailed
from instance.media.sniff import Sniffed, sniff
from instance.web.context import CSRF_FIELD, CSRF_HEADER

# Enough for every magic number sniff() knows (ISO BMFF brands sit in the first 32 bytes).
SNIFF_BYTES = 64
MAX_TEXT_BYTES = 64 * 1024  # all text fields of a form together
MAX_PARTS = 64
FEED_BYTES = 64 * 1024


class UploadTooLarge(PayloadTooLarge):
    message = N_(
        "That file is too large. Photos may be up to %(image_mb)d MB, videos up to %(video_mb)d MB."
    )


class UnsupportedFile(ValidationFailed):
    message = N_(
        "That file type is not supported. Upload a JPEG, PNG, WebP, GIF, HEIC or AVIF photo,"
        " or an MP4, WebM or MOV video."
    )


class TooManyFiles(ValidationFailed):
    message = N_("A post has at most %(limit)d attachments.")


@dataclass(frozen=True)
class UploadLimits:
    image_bytes: int
    video_bytes: int
    max_files: int

    def for_kind(self, kind: str) -> int:
        return self.video_bytes if kind == "video" else self.image_bytes

    def too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            field="file",
            image_mb=self.image_bytes // (1024 * 1024),
            video_mb=self.video_bytes // (1024 * 1024),
        )


@dataclass
class ReceivedFile:
    """A file part, on disk in the form's work directory."""

    field: str
    path: Path
    sniffed: Sniffed
    size: int


@dataclass
class StreamedForm:
    """The text fields and files of a multipart body; `close()` removes what is left."""

    workdir: Path
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)
    handles: list[BinaryIO] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))

    def close(self) -> None:
        """Remove the work directory and whatever files no one has taken from it."""
        for handle in self.handles:
            handle.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _make_workdir(tmp_root: Path) -> Path:
    tmp_root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="upload-", dir=tmp_root))


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


def _check_csrf(form: StreamedForm) -> None:
    expected = session.get("csrf")
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        failure = CsrfFailed()
        # What was typed so far, for the page that answers (web/errors.py keeps the post).
        failure.form_fields = {name: values[0] for name, values in form.fields.items() if values}
        raise failure


class _Part:
    """The part being received: a text field's bytes, or a file being written."""

    def __init__(self, name: str, is_file: bool, *, dropped: bool = False) -> None:
        self.name = name
        self.is_file = is_file
        self.dropped = dropped
        self.head = bytearray()
        self.handle: BinaryIO | None = None
        self.received: ReceivedFile | None = None
        self.text = bytearray()


async def read_streamed_form(
    limits: UploadLimits, tmp_root: Path, *, file_fields: tuple[str, ...]
) -> StreamedForm:
    """Read the request's multipart body (see the module docstring). Files sent in other
    fields than `file_fields`, or empty ones (a form's unused file input), are dropped."""
    content_type, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary", "")
    if content_type != "multipart/form-data" or not boundary:
        raise BadRequest(N_("The upload could not be read."))
    form = StreamedForm(await asyncio.to_thread(_make_workdir, tmp_root))
    try:
        await _receive(
            form,
            MultipartDecoder(boundary.encode(), None, max_parts=MAX_PARTS),
            limits,
            file_fields,
        )
    except BaseException:
        form.close()
        raise
    return form


async def _receive(
    form: StreamedForm,
    decoder: MultipartDecoder,
    limits: UploadLimits,
    file_fields: tuple[str, ...],
) -> None:
    reader = _Reader(form, decoder, limits, file_fields)
    async for chunk in request.body:
        # The decoder buffers what it is given: fed in slices, it never holds more than one.
        for start in range(0, len(chunk), FEED_BYTES):
            if not reader.finished:
                reader.feed(chunk[start : start + FEED_BYTES])
    if not reader.finished:
        reader.feed(None)  # the decoder needs to know the body ended to close the last part
    if not reader.finished:
        raise BadRequest(N_("The upload was cut off. Please try again."))
    if not reader.checked:
        _check_csrf(form)


class _Reader:
    """Turns the decoder's events into fields and files, counting as it goes."""

    def __init__(
        self,
        form: StreamedForm,
        decoder: MultipartDecoder,
        limits: UploadLimits,
        file_fields: tuple[str, ...],
    ) -> None:
        self.form = form
        self.decoder = decoder
        self.limits = limits
        self.file_fields = file_fields
        self.part: _Part | None = None
        self.text_bytes = 0
        self.checked = False
        self.finished = False

    def feed(self, chunk: bytes | None) -> None:
        self.decoder.receive_data(chunk)
        while True:
            try:
                event = self.decoder.next_event()
            except ValueError as exc:  # a malformed body, or too many parts
                raise BadRequest(N_("The upload could not be read.")) from exc
            if isinstance(event, NeedData):
                return
            if isinstance(event, Epilogue):
                self.finished = True
                return
            self._event(event)

    def _event(self, event: Any) -> None:
        if isinstance(event, File):
            wanted = event.name in self.file_fields
            self.part = _Part(event.name, is_file=True, dropped=not wanted)
            if wanted and not self.checked:
                _check_csrf(self.form)
                self.checked = True
        elif isinstance(event, Field):
            self.part = _Part(event.name, is_file=False)
        elif isinstance(event, Data) and self.part is not None and not self.part.dropped:
            part = self.part
            if part.is_file:
                _file_data(self.form, part, event.data, self.limits)
                if not event.more_data:
                    _file_done(self.form, part, self.limits)
                return
            self.text_bytes += len(event.data)
            if self.text_bytes > MAX_TEXT_BYTES:
                raise BadRequest(N_("The form is too long."))
            part.text += event.data
            if not event.more_data:
                value = part.text.decode("utf-8", "replace")
                self.form.fields.setdefault(part.name, []).append(value)


def _file_data(form: StreamedForm, part: _Part, data: bytes, limits: UploadLimits) -> None:
    if part.received is None:
        part.head += data
        if len(part.head) < SNIFF_BYTES:
            return
        _start_file(form, part, bytes(part.head), limits)
        return
    received = part.received
    received.size += len(data)
    if received.size > limits.for_kind(received.sniffed.kind):
        raise limits.too_large()
    assert part.handle is not None
    # Chunks are at most a network read (~64 KB): a write to the page cache, microseconds.
    part.handle.write(data)


def _start_file(form: StreamedForm, part: _Part, head: bytes, limits: UploadLimits) -> None:
    sniffed = sniff(head)
    if sniffed is None:
        raise UnsupportedFile(field="file")
    if len(form.files) >= limits.max_files:
        raise TooManyFiles(field="file", limit=limits.max_files)
    path = form.workdir / f"upload-{len(form.files)}.{sniffed.ext}"
    part.handle = path.open("wb")
    form.handles.append(part.handle)
    part.received = ReceivedFile(part.name, path, sniffed, 0)
    form.files.append(part.received)
    _file_data(form, part, head, limits)


def _file_done(form: StreamedForm, part: _Part, limits: UploadLimits) -> None:
    if part.received is None:
        if not part.head:
            return  # an empty file input: nothing was chosen
        _start_file(form, part, bytes(part.head), limits)  # shorter than the sniff window
    assert part.handle is not None
    part.handle.close()
