"""The web app manifest and the favicon: served from our origin, named after the instance."""

from __future__ import annotations

from quart import Quart

from tests.helpers.social import gapo


async def test_the_manifest_names_the_instance_and_starts_on_the_feed(make_app) -> None:
    app = await make_app(instance_name="Chợ Quê")
    client = app.test_client()
    response = await client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = await response.get_json(force=True)
    assert manifest["name"] == "Chợ Quê" and manifest["start_url"] == "/home"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
    favicon = await client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/x-icon"
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page


async def test_the_manifest_follows_the_name_an_admin_saved(app: Quart) -> None:
    """Instance settings win over GAPO_INSTANCE_NAME, at once (the site settings' cache)."""
    client = app.test_client()
    before = await (await client.get("/manifest.webmanifest")).get_json(force=True)
    assert before["name"] != "Vườn Rau Sạch Của Xóm"
    await gapo(app).site.save_instance(
        name="Vườn Rau Sạch Của Xóm",
        description="",
        contact="",
        rules="",
        terms="",
        default_language="vi",
    )
    response = await client.get("/manifest.webmanifest")
    manifest = await response.get_json(force=True)
    assert manifest["name"] == "Vườn Rau Sạch Của Xóm"
    assert manifest["short_name"] == "Vườn Rau Sạc"
    assert response.headers["ETag"]
