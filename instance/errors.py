"""Named errors of the instance and the one table that maps them to HTTP status codes.

Each error carries a safe, translatable message for the client (an English gettext
msgid plus format arguments); details for the log go in the exception chain.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Marks a string for translation where it is defined; translated where it is shown."""
    return message


class GapoError(Exception):
    """Base of every error a client may see."""

    status = 400
    message = N_("The request could not be processed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        retry_after: int | None = None,
        **args: Any,
    ) -> None:
        self.message = message or type(self).message
        self.field = field
        self.retry_after = retry_after
        self.args_for_message = args
        super().__init__(self.message % args if args else self.message)


class BadRequest(GapoError):
    status = 400


class ValidationFailed(GapoError):
    status = 422
    message = N_("Some of what you entered is not valid.")


class Conflict(GapoError):
    status = 409
    message = N_("That is already taken.")


class NotAuthenticated(GapoError):
    status = 401
    message = N_("Please log in first.")


class Forbidden(GapoError):
    status = 403
    message = N_("You are not allowed to do that.")


class CsrfFailed(Forbidden):
    message = N_("The form expired or was sent from another site. Please try again.")

    # The text fields read before the check failed (a streamed form is gone by the time the
    # error is answered), so a refused post can be shown again as it was typed.
    form_fields: dict[str, str] | None = None


class RegistrationClosed(Forbidden):
    message = N_("Sign-ups are closed on this instance.")


class NotFound(GapoError):
    status = 404
    message = N_("Not found.")


class PostDeleted(NotFound):
    """The post existed and was deleted. Only someone who could have seen it is told so;
    anyone else gets a plain NotFound, exactly as for a post that never existed."""

    status = 410
    message = N_("This post was deleted.")


class AccountGone(NotFound):
    """The local account was deleted: its profile, actor and WebFinger answer 410."""

    status = 410
    message = N_("This account was deleted.")


class PayloadTooLarge(GapoError):
    status = 413
    message = N_("The request is too large.")


class RateLimited(GapoError):
    status = 429
    message = N_("Too many attempts. Please wait and try again.")


class Overloaded(GapoError):
    status = 503
    message = N_("The server is busy. Please try again in a moment.")
