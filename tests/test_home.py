"""The home page tells a new instance how to create its first admin, and stops once there is one."""

from __future__ import annotations

from quart import Quart


async def test_first_admin_hint_until_an_admin_exists(client, app: Quart) -> None:
    """With no admin the page shows the `gapo user create … --admin` hint; afterwards it does not."""
    text = await (await client.get("/")).get_data(as_text=True)
    assert "no administrator yet" in text
    assert "gapo user create NAME --email you@example.org --admin" in text

    accounts = app.extensions["gapo"].accounts
    from instance.accounts.service import SignupRequest

    await accounts.signup(
        SignupRequest("mai", "mai@example.org", "a good long passphrase"), bypass_mode=True
    )
    assert "no administrator yet" in await (await client.get("/")).get_data(as_text=True)
    await accounts.promote("mai")
    text = await (await client.get("/")).get_data(as_text=True)
    assert "no administrator yet" not in text
    assert "--admin" not in text


async def test_health_and_security_headers(client) -> None:
    """/health answers ok, and pages carry the CSP and no-sniff headers."""
    response = await client.get("/health")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}
    page = await client.get("/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
