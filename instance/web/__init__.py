"""The web layer: blueprints for pages and forms. Thin: parse, call a service, render."""

from __future__ import annotations

from quart import Quart


def register_web(app: Quart) -> None:
    from instance.web import auth, context, errors, home, profile, settings_pages

    context.install(app)
    errors.install(app)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(profile.blueprint)
    app.register_blueprint(settings_pages.blueprint)
