"""Per-request context: the services, the signed-in user, the locale, CSRF and headers."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any, cast
from zoneinfo import ZoneInfo

from quart import Quart, current_app, g, request, session
from quart.sessions import SecureCookieSession, SecureCookieSessionInterface
from quart.wrappers import BaseRequestWebsocket, Response

from instance import i18n
from instance.accounts.views import AccountView
from instance.config import Settings
from instance.errors import CsrfFailed, NotAuthenticated
from instance.media.backends import reader_origins
from instance.posts.languages import POST_LANGUAGES
from instance.services import Services
from instance.web import times
from instance.web.onion_location import install_onion_location
from instance.web.uploads import STREAMED_ENDPOINTS

Row = Mapping[str, Any]  # a row from a service, read-only here

SESSION_COOKIE = "gapo_session"
# A browser that has logged in to an account before (instance/accounts/login_throttle.py).
DEVICE_COOKIE = "gapo_device"
LOCALE_COOKIE = "gapo_locale"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Self-hosted assets only: no inline script, no third-party origin. Images and videos too:
# remote ones come through /media/proxy/, so a page that named a remote file directly (a
# bug, or markup a peer slipped in) is blocked rather than leaking the reader's address.
# blob: is for the compose form's previews of files not uploaded yet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# On an https base URL browsers are told to use nothing else for a year. No includeSubDomains:
# other names under the instance's domain may belong to other services, not all on https.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# Given to every answer that does not set its own (the HSTS one only on an https base URL).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def security_headers_for(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The headers every answer gets unless it sets its own, in the order they are added."""
    headers = SECURITY_HEADERS
    if stores := reader_origins(settings):
        # Media served by redirect to the bucket (GAPO_S3_SERVING public or signed): the
        # admin chose to let browsers load files from there, and only from there.
        sources = " ".join(stores)
        policy = CONTENT_SECURITY_POLICY.replace(
            "img-src 'self'", f"img-src 'self' {sources}"
        ).replace("media-src 'self'", f"media-src 'self' {sources}")
        headers = (("Content-Security-Policy", policy), *SECURITY_HEADERS[1:])
    if settings.secure_cookies:
        return (*headers, ("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    return headers


def add_vary(response: Response, name: str) -> None:
    """`response.vary.add(name)` without parsing and rewriting the header when it is absent
    or already names `name` (the common cases)."""
    current = response.headers.get("Vary")
    if current is None:
        response.headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in current.split(",")):
        response.vary.add(name)


# ActivityPub and /.well-known endpoints (instance/web/activitypub_routes.py, wellknown.py):
# they answer machines and render no page. Their inboxes are authenticated by signatures.
MACHINE_BLUEPRINTS = frozenset({"ap", "wellknown"})


def services() -> Services:
    return cast(Services, current_app.extensions["gapo"])


def settings() -> Settings:
    return cast(Settings, current_app.config["GAPO_SETTINGS"])


def current_user() -> Row | None:
    return cast(Row | None, g.get("user"))


def require_user() -> Row:
    user = current_user()
    if user is None:
        raise NotAuthenticated()
    return user


def client_ip() -> str:
    """The client's address; behind N trusted proxies, the Nth address from the right of
    X-Forwarded-For (anything further left is written by the client and can be forged)."""
    hops = settings().trusted_proxies
    if hops > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def rotate_csrf() -> None:
    """A new CSRF token when who is signed in changes (sign-up, log-in): a token seen or
    planted before then is worthless afterwards."""
    session["csrf"] = secrets.token_urlsafe(24)


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


async def check_csrf() -> None:
    expected = session.get("csrf")
    # Reading the body here (form or not) enforces MAX_CONTENT_LENGTH, so an oversized body
    # is answered 413 whatever its type, even without a Content-Length header.
    await request.get_data(cache=True, parse_form_data=True)
    form = await request.form
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()


def _choose_locale(user: Row | None, default: str = i18n.DEFAULT_LOCALE) -> str:
    if user is not None and i18n.valid_locale(user["locale"]):
        return str(user["locale"])
    cookie = i18n.valid_locale(request.cookies.get(LOCALE_COOKIE))
    return cookie or i18n.best_match(request.headers.get("Accept-Language"), default)


class CookieSessions(SecureCookieSessionInterface):
    """Quart's signed-cookie session, minus the work for a request that sends no cookie.

    Quart builds a signing serializer (key derivation set-up, a JSON round trip to check the
    serializer) for every request before it looks for the cookie; most requests to the
    machine endpoints and every first visit carry none. Then the answer is the same empty
    session, made directly (about 5 % of a cached actor GET's event-loop time).
    """

    async def open_session(
        self, app: Quart, request: BaseRequestWebsocket
    ) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return await super().open_session(app, request)


def install(app: Quart) -> None:
    app.session_interface = CookieSessions()

    @app.before_request
    async def load_request_context() -> None:
        if request.blueprint in MACHINE_BLUEPRINTS:
            # Peers, not people: no session to look up (a database read, and a write of
            # last_active_at, for a browser that happens to carry a cookie), no form to
            # check. The locale is kept: error messages in JSON are translated.
            g.user = None
            g.locale = _choose_locale(None)
            i18n.current_locale.set(g.locale)
            return
        g.user = await services().sessions.user_for(request.cookies.get(SESSION_COOKIE))
        # The instance's settings come from a per-process cache (accounts/site.py).
        g.site = await services().site.get()
        g.locale = _choose_locale(g.user, g.site.default_language)
        i18n.current_locale.set(g.locale)
        # Forms of every blueprint are protected; machine endpoints opt out by blueprint.
        exempt = current_app.config.get("CSRF_EXEMPT_BLUEPRINTS", set())
        # Unrouted requests skip it so that they get their 404 or 405 rather than a 403.
        routed = request.routing_exception is None
        # Uploads check their token while they stream (web/upload_stream.py), before any file.
        streamed = (
            request.endpoint in STREAMED_ENDPOINTS and request.mimetype == "multipart/form-data"
        )
        if request.method == "POST" and routed and request.blueprint not in exempt and not streamed:
            await check_csrf()

    install_onion_location(app, app.config["GAPO_SETTINGS"], MACHINE_BLUEPRINTS)
    secure_headers = security_headers_for(app.config["GAPO_SETTINGS"])

    @app.after_request
    async def security_headers(response: Response) -> Response:
        # One pass over the headers instead of a case-blind scan per setdefault: on a cached
        # actor GET the five scans and the Vary re-parse were 14 % of the request's time.
        headers = response.headers
        present = {key.lower() for key in headers.keys()}  # noqa: SIM118 (Headers is no dict)
        for name, value in secure_headers:
            if name.lower() not in present:
                headers.add(name, value)
        add_vary(response, "Cookie")
        return response

    @app.context_processor
    async def template_globals() -> dict[str, Any]:
        user = g.get("user")
        return {
            # Only for signed-in pages, and only once per render: one indexed COUNT.
            "unread_notifications": (
                await services().notifications.unread_count(user["account_id"]) if user else 0
            ),
            "current_user": g.get("user"),
            "csrf_token": csrf_token,
            "locale": g.get("locale", i18n.DEFAULT_LOCALE),
            "locale_names": i18n.LOCALE_NAMES,
            "post_languages": POST_LANGUAGES,
            "instance_name": g.site.name if "site" in g else settings().instance_name,
            # Sign-up and the email settings mark the address optional unless it is required.
            "require_email": settings().require_email,
            "max_post_chars": settings().max_post_chars,
            "instance_host": settings().host,
            # The ActivityPub id of what the page shows, for a <link rel="alternate">.
            "activitypub_alternate": g.get("activitypub_alternate"),
            "handle": handle,
            "here": here,
            "iso_time": iso_time,
            "web_url": web_url,
            "media_src": media_src,
            "when": when,
            "ago": ago,
        }


def set_session_cookie(response: Response, token: str) -> None:
    from instance.accounts.sessions import SESSION_LIFETIME

    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_LIFETIME,
        httponly=True,
        samesite="Lax",
        secure=settings().secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=settings().secure_cookies
    )


def set_device_cookie(response: Response, value: str) -> None:
    """Sent back only to the login form's POST: nothing else needs it."""
    from instance.accounts.login_throttle import DEVICE_COOKIE_LIFETIME

    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_LIFETIME,
        httponly=True,
        samesite="Strict",
        secure=settings().secure_cookies,
        path="/login",
    )


def clear_device_cookie(response: Response) -> None:
    response.delete_cookie(
        DEVICE_COOKIE,
        path="/login",
        httponly=True,
        samesite="Strict",
        secure=settings().secure_cookies,
    )


def handle(who: Row | AccountView) -> str:
    """`@name@domain` for an account (a view, or an account or post row); local ones carry
    our host."""
    if isinstance(who, AccountView):
        return f"@{who.username}@{who.domain or settings().host}"
    domain = who.get("domain") or settings().host
    return f"@{who['username']}@{domain}"


def web_url(url: str | None) -> str:
    """`url` if a browser may follow or load it (http(s), or a path here), else "".

    Peers choose the profile, avatar and header URLs they send; a `javascript:` or
    `data:` one must never reach an href or src, whatever was stored.
    """
    if not url:
        return ""
    value = url.strip()
    lowered = value.lower()
    if lowered.startswith(("https://", "http://")):
        return value
    if value.startswith("/") and not value.startswith("//"):
        return value
    return ""


def media_src(url: str | None) -> str:
    """An image or video URL for a `src`: ours as it is, a remote one through the media
    proxy (a reader's browser never loads a file from another server), else ""."""
    safe = web_url(url)
    if not safe or safe.startswith("/"):
        return safe
    urls = services().urls
    served = urls.served(safe) or ""
    if urls.is_local(served):
        # A path, not the base URL: the page may be read on another origin (the onion
        # service), where the CSP allows this origin's files only.
        return served[len(urls.base_url) :] or "/"
    return served


def here() -> str:
    """This page's path and query, for a form that should come back here (`next`)."""
    from urllib.parse import quote

    path = quote(request.path, safe="/@:+,;=!$&'()*-._~")
    query = request.query_string.decode("ascii", "replace")
    return f"{path}?{query}" if query else path


def reader_zone() -> ZoneInfo:
    """The reader's time zone: the browser's (a cookie static/app.js sets), else the
    instance default. A cookie naming no real zone is ignored, never an error."""
    zone = g.get("time_zone")
    if zone is None:
        zone = times.zone_named(request.cookies.get(times.TIME_ZONE_COOKIE))
        zone = zone or times.zone_named(settings().default_time_zone) or ZoneInfo("UTC")
        g.time_zone = zone
    return cast(ZoneInfo, zone)


def when(ts: int | None) -> str:
    """The exact moment in the reader's zone and language ("March 6, 2026, 1:07:00 AM +0700")."""
    if not ts:
        return ""
    return times.exact(ts, g.get("locale", i18n.DEFAULT_LOCALE), reader_zone())


def ago(ts: int | None) -> str:
    """How long ago, for a card ("5 phút trước"), then a date; `when` goes in its title."""
    from instance.ids import now

    if not ts:
        return ""
    return times.relative(ts, now(), g.get("locale", i18n.DEFAULT_LOCALE), reader_zone())


def iso_time(ts: int | None) -> str:
    """The moment as ISO 8601 in UTC, for `<time datetime>` (machine-readable)."""
    from datetime import UTC, datetime

    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
