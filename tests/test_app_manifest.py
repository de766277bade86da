"""The web app manifest and the favicon: served from our origin, named after the instance."""

from __future__ import annotations


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
