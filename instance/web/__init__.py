"""The web layer: blueprints for pages and forms. Thin: parse, call a service, render."""

from __future__ import annotations

from quart import Quart


def register_web(app: Quart) -> None:
    from instance.web import (
        activitypub_routes,
        admin_accounts,
        admin_common,
        admin_dashboard,
        admin_federation,
        admin_reports,
        admin_site,
        app_manifest,
        auth,
        context,
        converters,
        errors,
        feed_cards,
        feed_page,
        home,
        media,
        media_proxy,
        notifications,
        people,
        posts,
        profile,
        reports,
        settings_account,
        settings_data,
        settings_moving,
        settings_pages,
        tags,
        uploads,
        wellknown,
    )
    from instance.web.view_undefined import ViewUndefined

    app.request_class = uploads.request_class_for(app.config["GAPO_SETTINGS"])
    app.jinja_env.undefined = ViewUndefined

    converters.install(app)
    context.install(app)
    errors.install(app)
    feed_cards.install(app)
    feed_page.install(app)
    admin_common.install(app)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(app_manifest.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(profile.blueprint)
    app.register_blueprint(settings_pages.blueprint)
    app.register_blueprint(settings_account.blueprint)
    app.register_blueprint(settings_data.blueprint)
    app.register_blueprint(settings_moving.blueprint)
    app.register_blueprint(posts.blueprint)
    app.register_blueprint(people.blueprint)
    app.register_blueprint(notifications.blueprint)
    app.register_blueprint(media.blueprint)
    app.register_blueprint(media_proxy.blueprint)
    app.register_blueprint(tags.blueprint)
    app.register_blueprint(admin_dashboard.blueprint)
    app.register_blueprint(admin_accounts.blueprint)
    app.register_blueprint(admin_federation.blueprint)
    app.register_blueprint(admin_reports.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(admin_site.blueprint)
    activitypub_routes.install(app)
    wellknown.install(app)
