"""Sign-up, login and logout pages."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.accounts.service import SignupRequest
from instance.accounts.validation import PASSWORD_RULE
from instance.errors import GapoError
from instance.web.anonymous_forms import visitor_form
from instance.web.context import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    clear_device_cookie,
    clear_session_cookie,
    client_ip,
    rotate_csrf,
    services,
    set_device_cookie,
    set_session_cookie,
    settings,
)
from instance.web.forms import form_fields, form_with_error, safe_next

blueprint = Blueprint("auth", __name__)


async def _signed_in(user_id: int, target: str, token: str | None = None) -> Response:
    """The redirect that starts a session: cookie, device cookie, a fresh CSRF token.

    `token` is a session already written (by the sign-up's transaction); else one is made.
    Only a coarse label of the user agent is kept with the session; never the address.
    """
    if token is None:
        token = await services().sessions.create(
            user_id, user_agent=request.headers.get("User-Agent")
        )
    rotate_csrf()
    response: Response = redirect(target)  # type: ignore[assignment]
    set_session_cookie(response, token)
    set_device_cookie(response, services().login_throttle.device_cookie(user_id))
    return response


async def _signup_context() -> dict[str, Any]:
    """What the sign-up page shows of the instance's settings (read through their cache)."""
    site = await services().site.get()
    return {
        "mode": site.registrations,
        "paused": site.registrations_paused,
        "rules": site.rules,
    }


@blueprint.get("/signup")
async def signup_form() -> str:
    context = await _signup_context()
    if g.get("user") is None:
        # The same page for every visitor in a language but for the token: rendered once
        # per version of the instance's settings (its name, mode, pause and rules).
        return await visitor_form(
            "signup.html",
            (g.locale, request.path, await services().site.get(), settings().require_email),
            values={},
            password_rule=PASSWORD_RULE,
            **context,
        )
    return await render_template("signup.html", values={}, password_rule=PASSWORD_RULE, **context)


@blueprint.post("/signup")
async def signup() -> Response:
    values = await form_fields("username", "email", "password", "invite")
    address = client_ip()
    try:
        # Only accounts made count (below): a typo or a 503 does not use up the allowance.
        await services().signup_limiter.check(address)
        # The session is written with the account, in the same transaction.
        session = services().sessions.starter(request.headers.get("User-Agent"))
        user = await services().accounts.signup(
            SignupRequest(
                username=values["username"],
                email=values["email"],
                password=values["password"],
                invite_code=values["invite"],
                locale=g.locale,
            ),
            then=session,
        )
    except GapoError as exc:
        values.pop("password")
        return await form_with_error(
            "signup.html",
            exc,
            values=values,
            password_rule=PASSWORD_RULE,
            **await _signup_context(),
        )
    await services().signup_limiter.made(address)
    if not user["approved"]:
        body = await render_template("signup_pending.html", username=user["username"])
        return Response(body, status=201, content_type="text/html; charset=utf-8")
    # A new person starts where everyone else does: their home feed, with the composer.
    return await _signed_in(user["user_id"], url_for("posts.home"), session.token)


@blueprint.get("/login")
async def login_form() -> str:
    return await render_template(
        "login.html",
        values={},
        next=request.args.get("next", ""),
        registrations=(await services().site.get()).signup_mode,
    )


@blueprint.post("/login")
async def login() -> Response:
    values = await form_fields("login", "password", "next")
    # Decided before anything is written: a bad `next` only changes where the person lands.
    # Without one, the home feed: the welcome page is for visitors.
    target = safe_next(values["next"], default=url_for("posts.home"))
    try:
        await services().login_limiter.hit(client_ip())
        user = await services().accounts.authenticate(
            values["login"], values["password"], device=request.cookies.get(DEVICE_COOKIE)
        )
    except GapoError as exc:
        return await form_with_error(
            "login.html",
            exc,
            values={"login": values["login"]},
            next=target,
            registrations=(await services().site.get()).signup_mode,
        )
    return await _signed_in(user["user_id"], target)


@blueprint.post("/logout")
async def logout() -> Response:
    await services().sessions.end(request.cookies.get(SESSION_COOKIE))
    response: Response = redirect(url_for("home.index"))  # type: ignore[assignment]
    clear_session_cookie(response)
    # A logged-out browser keeps nothing that ties it to the account.
    clear_device_cookie(response)
    return response
