"""The web app manifest and the favicon: what a phone needs to install the site as an app.

`/manifest.webmanifest` names the app after the instance (the name an admin saved under
Administration → Instance settings, else `GAPO_INSTANCE_NAME`) and starts it on the home feed;
the icons are files in static/icons/ (drawn by scripts/make_icons.py), served from our
origin like everything else. Browsers ask for `/favicon.ico` at the root whatever the page
links, so it is answered here rather than with a 404.
"""

from __future__ import annotations

import hashlib
import json

from quart import Blueprint, current_app, send_from_directory, url_for
from quart.wrappers import Response

from instance.web.context import services

blueprint = Blueprint("app_manifest", __name__)

MANIFEST_TYPE = "application/manifest+json"
# The light theme's accent and the dark theme's background (static/style.css).
THEME_COLOUR = "#1d4ed8"
BACKGROUND_COLOUR = "#fafafa"
# Short names longer than this are cut by launchers under the icon.
SHORT_NAME_CHARS = 12


def manifest_document(name: str) -> dict[str, object]:
    def icon(filename: str, size: int, purpose: str) -> dict[str, str]:
        return {
            "src": url_for("static", filename=f"icons/{filename}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    return {
        "name": name,
        "short_name": name[:SHORT_NAME_CHARS],
        "start_url": url_for("posts.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }


@blueprint.get("/manifest.webmanifest")
async def manifest() -> Response:
    # The request context already read the site settings (a per-process cache).
    name = (await services().site.get()).name
    body = json.dumps(manifest_document(name), ensure_ascii=False)
    response = Response(body, content_type=f"{MANIFEST_TYPE}; charset=utf-8")
    response.cache_control.public = True
    # An hour, and revalidated by its ETag: a renamed instance shows within the hour.
    response.cache_control.max_age = 3600
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    return response


@blueprint.get("/favicon.ico")
async def favicon() -> Response:
    folder = f"{current_app.static_folder}/icons"
    response = await send_from_directory(folder, "favicon.ico", mimetype="image/x-icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
