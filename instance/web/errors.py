"""The one place that turns exceptions into HTTP responses: a safe message, a status code."""

from __future__ import annotations

import json
import logging

from quart import Quart, g, redirect, render_template, request, url_for
from quart.wrappers import Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from instance.errors import N_, GapoError, NotAuthenticated, PayloadTooLarge
from instance.i18n import gettext
from instance.web.context import here

log = logging.getLogger(__name__)

# werkzeug's errors carry English prose; show people our translated phrases instead.
HTTP_MESSAGES = {
    400: N_("The request could not be processed."),
    404: N_("Not found."),
    405: N_("That action is not allowed here."),
    408: N_("The request took too long to arrive."),
    413: N_("The request is too large."),
}
UNEXPECTED = N_("Something went wrong on our side.")


def message_of(exc: GapoError) -> str:
    return gettext(exc.message, **exc.args_for_message)


def wants_json() -> bool:
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json", "application/activity+json"]) in (
        "application/json",
        "application/activity+json",
    ) or request.path.startswith(("/inbox", "/users/", "/api/", "/.well-known/", "/nodeinfo"))


async def error_response(status: int, message: str, retry_after: int | None = None) -> Response:
    if wants_json():
        response = Response(
            json.dumps({"error": message}),
            status=status,
            content_type="application/json",
        )
    else:
        body = await render_template("error.html", status=status, message=message)
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def install(app: Quart) -> None:
    @app.errorhandler(GapoError)
    async def handle_gapo_error(exc: GapoError) -> Response:
        if (
            isinstance(exc, NotAuthenticated)
            and not wants_json()
            and g.get("user") is None
            and request.method == "GET"
        ):
            # The query comes back too (`/authorize_interaction?uri=…`); login checks it.
            return redirect(url_for("auth.login", next=here()))  # type: ignore[return-value]
        return await error_response(exc.status, message_of(exc), exc.retry_after)

    @app.errorhandler(HTTPException)
    async def handle_http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if isinstance(exc, RequestEntityTooLarge):
            return await error_response(413, gettext(PayloadTooLarge.message))
        # Statuses without a phrase of our own get a generic translated one, not English prose.
        text = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400] if status < 500 else UNEXPECTED)
        return await error_response(status, gettext(text))

    @app.errorhandler(Exception)
    async def handle_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_response(500, gettext(UNEXPECTED))
