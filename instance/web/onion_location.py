"""`Onion-Location` on every HTML page when the instance is also an onion service.

Tor Browser shows a ".onion available" button on a page that sends it (over https) and can
switch to the onion address by itself. Only pages for people get it: ActivityPub documents,
WebFinger and other JSON are read by servers, which use the clear-web ids whatever a page
says. The value is the same path (and query) on the onion origin.
"""

from __future__ import annotations

from quart import Quart, Response, request

from instance.config import Settings


def install_onion_location(
    app: Quart, settings: Settings, machine_blueprints: frozenset[str]
) -> None:
    """Adds the header to HTML answers of `app` when `settings.onion_address` is set."""
    onion = settings.onion_address
    if not onion:
        return

    @app.after_request
    async def onion_location(response: Response) -> Response:
        if response.mimetype == "text/html" and request.blueprint not in machine_blueprints:
            query = request.query_string.decode("ascii", "replace")
            response.headers["Onion-Location"] = (
                onion + request.path + (f"?{query}" if query else "")
            )
        return response
