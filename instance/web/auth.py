"""Sign-up, login and logout pages."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart.wrappers import Response

from instance.accounts.service import SignupRequest
from instance.errors import GapoError
from instance.web.context import (
    clear_session_cookie,
    client_ip,
    services,
    set_session_cookie,
    settings,
)
from instance.web.forms import form_fields, form_with_error, safe_next

blueprint = Blueprint("auth", __name__)


@blueprint.get("/signup")
async def signup_form() -> str:
    return await render_template("signup.html", mode=settings().registrations, values={})


@blueprint.post("/signup")
async def signup() -> Response:
    values = await form_fields("username", "email", "password", "invite")
    mode = settings().registrations
    try:
        services().signup_limiter.hit(client_ip())
        user = await services().accounts.signup(
            SignupRequest(
                username=values["username"],
                email=values["email"],
                password=values["password"],
                invite_code=values["invite"],
                locale=g.locale,
            )
        )
    except GapoError as exc:
        values.pop("password")
        return await form_with_error("signup.html", exc, mode=mode, values=values)
    if not user["approved"]:
        body = await render_template("signup_pending.html", username=user["username"])
        return Response(body, status=201, content_type="text/html; charset=utf-8")
    token = await services().sessions.create(
        user["user_id"], ip=client_ip(), user_agent=request.headers.get("User-Agent")
    )
    response = redirect(url_for("profile.show", username=user["username"]))
    set_session_cookie(response, token)  # type: ignore[arg-type]
    return response  # type: ignore[return-value]


@blueprint.get("/login")
async def login_form() -> str:
    return await render_template("login.html", values={}, next=request.args.get("next", ""))


@blueprint.post("/login")
async def login() -> Response:
    values = await form_fields("login", "password", "next")
    try:
        services().login_limiter.hit(client_ip())
        user = await services().accounts.authenticate(values["login"], values["password"])
    except GapoError as exc:
        return await form_with_error(
            "login.html", exc, values={"login": values["login"]}, next=values["next"]
        )
    token = await services().sessions.create(
        user["user_id"], ip=client_ip(), user_agent=request.headers.get("User-Agent")
    )
    response = redirect(safe_next(values["next"]))
    set_session_cookie(response, token)  # type: ignore[arg-type]
    return response  # type: ignore[return-value]


@blueprint.post("/logout")
async def logout() -> Response:
    from instance.web.context import SESSION_COOKIE

    await services().sessions.end(request.cookies.get(SESSION_COOKIE))
    response = redirect(url_for("home.index"))
    clear_session_cookie(response)  # type: ignore[arg-type]
    return response  # type: ignore[return-value]
