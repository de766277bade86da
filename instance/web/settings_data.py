"""Settings for a person's own data: export it, import follows, blocks and mutes, delete it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

from quart import Blueprint, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.errors import N_, GapoError, RateLimited, ValidationFailed
from instance.federation.imports import MAX_BYTES
from instance.web.context import (
    clear_device_cookie,
    clear_session_cookie,
    require_user,
    services,
    settings,
)
from instance.web.forms import form_fields, form_with_error

blueprint = Blueprint("data_settings", __name__, url_prefix="/settings")
CHUNK = 64 * 1024


@blueprint.get("/data")
async def data_page() -> str:
    require_user()
    return await render_template("settings_data.html", imported=request.args.get("imported", ""))


@blueprint.post("/delete")
async def delete_account() -> Response:
    """Deletion, confirmed with the password: the account is gone for the browser at once
    (every session ends); the job queue removes the rest."""
    user = require_user()
    values = await form_fields("current")
    try:
        await services().accounts.delete_own(user["user_id"], values["current"])
    except GapoError as exc:
        return await form_with_error("settings_data.html", exc, imported="")
    response: Response = redirect(url_for("data_settings.deleted"))  # type: ignore[assignment]
    clear_session_cookie(response)
    clear_device_cookie(response)
    return response


@blueprint.get("/deleted")
async def deleted() -> str:
    return await render_template("account_deleted.html")


@blueprint.get("/export")
async def export_archive() -> Response:
    """The person's archive, written to a temporary file off the loop, streamed, removed.
    One per account per `GAPO_EXPORT_INTERVAL_MINUTES` (per process, like every limit)."""
    user = require_user()
    limiter, key = services().export_limiter, str(user["account_id"])
    try:
        await limiter.check(key)
    except RateLimited as exc:
        wait = exc.retry_after or 60
        refused = RateLimited(
            N_(
                "You can download an archive once every %(interval)d minutes."
                " Try again in %(minutes)d minutes."
            ),
            retry_after=wait,
            interval=settings().export_interval_minutes,
            minutes=math.ceil(wait / 60),
        )
        return await form_with_error("settings_data.html", refused, imported="")
    path = await services().exports.archive(user["account_id"])
    # Counted once the archive is made: a failure to make it costs the person no wait.
    await limiter.record(key)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            with path.open("rb") as archive:
                while chunk := await asyncio.to_thread(archive.read, CHUNK):
                    yield chunk
        finally:
            await asyncio.to_thread(path.unlink, True)

    response = Response(chunks(), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{user["username"]}-archive.zip"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/import")
async def import_list() -> Response:
    """A CSV of follows, blocks or mutes: checked now, applied by a job."""
    user = require_user()
    values = await form_fields("kind")
    files = await request.files
    upload = files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(N_("Choose a CSV file to import."), field="file")
        # One byte past the limit is enough for the service to refuse it as too large.
        data = upload.read(MAX_BYTES + 1)
        count = await services().imports.request(user["account_id"], values["kind"], data)
    except GapoError as exc:
        return await form_with_error("settings_data.html", exc, imported="")
    return redirect(url_for("data_settings.data_page", imported=str(count)))  # type: ignore[return-value]
