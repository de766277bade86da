"""The one place that turns exceptions into HTTP responses: a safe message, a status code."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from babel.dates import format_timedelta
from quart import Quart, g, redirect, render_template, request, url_for
from quart.wrappers import Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from instance.errors import N_, CsrfFailed, GapoError, NotAuthenticated, PayloadTooLarge
from instance.i18n import current_locale, gettext
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
# The error page's heading, in words rather than a bare number.
HEADINGS = {
    400: N_("Something is wrong with the request"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("This page cannot be opened like that"),
    408: N_("The request took too long"),
    413: N_("Too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("The server is busy"),
}


def message_of(exc: GapoError) -> str:
    return gettext(exc.message, **exc.args_for_message)


def wants_json() -> bool:
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json", "application/activity+json"]) in (
        "application/json",
        "application/activity+json",
    ) or request.path.startswith(("/inbox", "/users/", "/api/", "/.well-known/", "/nodeinfo"))


def retry_wait(seconds: int | None) -> str:
    """Retry-After in the reader's words ("10 phút"); whole minutes are rounded up so the
    page never says to come back before the server will take the request."""
    if not seconds or seconds <= 0:
        return ""
    if seconds >= 90:
        seconds = -(-seconds // 60) * 60
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=current_locale.get())


async def error_response(status: int, message: str, retry_after: int | None = None) -> Response:
    if wants_json():
        response = Response(
            json.dumps({"error": message}),
            status=status,
            content_type="application/json",
        )
    else:
        from instance.web.error_pages import back_link

        heading = HEADINGS.get(status, HEADINGS[400] if status < 500 else HEADINGS[500])
        body = await render_template(
            "error.html",
            status=status,
            heading=gettext(heading),
            message=message,
            retry_in=retry_wait(retry_after),
            back=back_link(),
            retry_url=here() if request.method == "GET" else "",
        )
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _compose_again(exc: GapoError, draft: dict[str, str]) -> Response:
    body = await render_template(
        "compose.html", error=message_of(exc), error_field=None, draft=draft
    )
    return Response(body, status=exc.status, content_type="text/html; charset=utf-8")


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
        if isinstance(exc, CsrfFailed) and not wants_json():
            from instance.web.error_pages import refused_draft

            draft = await refused_draft(exc)
            if draft is not None:
                # The post as typed, with a fresh token in the form: nothing is lost.
                return await _compose_again(exc, draft)
        return await error_response(exc.status, message_of(exc), exc.retry_after)

    @app.errorhandler(HTTPException)
    async def handle_http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 405 and request.method == "GET" and not wants_json():
            from instance.web.error_pages import form_page_for

            # A reload of a refused form's answer: back to the page with the form.
            target = form_page_for(request.path)
            if target:
                return redirect(target)  # type: ignore[return-value]
        if isinstance(exc, RequestEntityTooLarge):
            return await error_response(413, gettext(PayloadTooLarge.message))
        # Statuses without a phrase of our own get a generic translated one, not English prose.
        text = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400] if status < 500 else UNEXPECTED)
        return await error_response(status, gettext(text))

    @app.errorhandler(Exception)
    async def handle_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_response(500, gettext(UNEXPECTED))
