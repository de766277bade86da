"""`create_app(settings)`: the Quart app factory, its blueprints and its lifespan."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from quart import Quart

from instance.config import Settings, load_settings
from instance.i18n import gettext, ngettext
from instance.services import load_or_create_secret, open_services

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent


def _asset_dir(name: str) -> Path:
    """Installed wheels carry templates/ and static/ inside the package; a checkout beside it."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A package named `instance` would otherwise become Quart's instance folder:
    # pass the data dir and the asset folders explicitly.
    app = Quart(
        __name__,
        instance_path=str(settings.data_dir.resolve()),
        template_folder=str(_asset_dir("templates")),
        static_folder=str(_asset_dir("static")),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=load_or_create_secret(settings.data_dir),
        SESSION_COOKIE_NAME="gapo_state",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
        MAX_FORM_PARTS=200,
        GAPO_SETTINGS=settings,
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )

    from instance.db import request_version

    # Before the web's own hooks (the session's user is the first cached read): the read
    # caches of one request share one database version (db/request_version.py). Async, so
    # that it runs in the request's task and not on a thread.
    @app.before_request
    async def snapshot_version() -> None:
        request_version.begin()

    from instance.web import register_web

    register_web(app)
    from instance.web.body_guard import BodyGuard
    from instance.web.hash_admission import HashAdmission

    # Sign-ups and log-ins that hashing would keep waiting: refused before Quart parses them.
    admission: Any = HashAdmission(
        app.asgi_app, lambda: getattr(app.extensions.get("gapo"), "password_pool", None)
    )
    app.asgi_app = admission  # type: ignore[method-assign]

    from instance.web.inbox_fast_path import InboxFastPath

    # Signed inbox POSTs received without Quart's request machinery, inside the body guard.
    inbox_path: Any = InboxFastPath(app.asgi_app, lambda: app.extensions.get("gapo"), settings)
    app.extensions["inbox_fast_path"] = inbox_path
    app.asgi_app = inbox_path  # type: ignore[method-assign]

    # Outermost, so that a slow body is cut before Quart waits for it (docs/overload.md).
    guard: Any = BodyGuard(
        app.asgi_app,
        timeout=settings.body_timeout,
        min_rate=settings.body_min_rate,
        max_in_flight=settings.max_body_reads,
    )
    app.asgi_app = guard  # type: ignore[method-assign]

    from instance.web.document_fast_path import DocumentFastPath

    # Cached actors and discovery documents answered before any of the above or Quart runs
    # (bodiless GET/HEAD only; anything else passes through unchanged).
    fast_path: Any = DocumentFastPath(app.asgi_app, lambda: app.extensions.get("gapo"), settings)
    app.extensions["document_fast_path"] = fast_path
    app.asgi_app = fast_path  # type: ignore[method-assign]

    from instance.web.ops_endpoints import OpsEndpoints

    # Outermost: /health and /metrics cost nothing of the above, and every request is timed.
    ops: Any = OpsEndpoints(app.asgi_app, lambda: app.extensions.get("gapo"), settings)
    app.extensions["ops_endpoints"] = ops
    app.asgi_app = ops  # type: ignore[method-assign]

    @app.before_serving
    async def start() -> None:
        services = await open_services(settings)
        app.extensions["gapo"] = services
        # The runner also runs housekeeping (expired sessions, old jobs and inbox records).
        if settings.run_jobs:
            services.runner.start()

    @app.after_serving
    async def stop() -> None:
        services = app.extensions.pop("gapo", None)
        if services is not None:
            await services.close()

    return app
