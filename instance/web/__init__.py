"""The web layer: blueprints for pages and forms. Thin: parse, call a service, render."""

from __future__ import annotations

from quart import Quart


def register_web(app: Quart) -> None:
    from instance.web import (
        activitypub_routes,
        auth,
        context,
        errors,
        home,
        people,
        posts,
        profile,
        settings_pages,
        wellknown,
    )

    context.install(app)
    errors.install(app)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(profile.blueprint)
    app.register_blueprint(settings_pages.blueprint)
    app.register_blueprint(posts.blueprint)
    app.register_blueprint(people.blueprint)
    activitypub_routes.install(app)
    wellknown.install(app)
