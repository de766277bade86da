"""Error pages: translated, with a heading in words and ways on; a reload of a refused post
goes back to the composer; a CSRF failure shows the post again as it was typed."""

from __future__ import annotations

import html
import re

from quart import Quart

from instance.web.errors import error_response
from tests.helpers.social import user
from tests.helpers.web import CSRF_RE, csrf_of

VI = {"Accept-Language": "vi"}
TEXTAREA = re.compile(r'<textarea id="compose-text" name="text"[^>]*>([^<]*)</textarea>')


async def test_404_is_translated_and_leads_home_and_to_search(client) -> None:
    response = await client.get("/no/such/page", headers=VI)
    assert response.status_code == 404
    body = await response.get_data(as_text=True)
    assert "Không tìm thấy trang" in body and "<title>Không tìm thấy trang" in body
    assert 'href="/"' in body and 'href="/search"' in body
    assert 'class="error-page"' in body  # the styled page, not bare text

    english = await (await client.get("/no/such/page")).get_data(as_text=True)
    assert "Page not found" in english and "Back to the home page" in english


async def test_405_is_translated_with_a_link_home(client) -> None:
    response = await client.post("/health", headers=VI)
    assert response.status_code == 405
    body = await response.get_data(as_text=True)
    assert "Lỗi 405" in body and "Không thể mở trang này theo cách đó" in body
    assert 'href="/"' in body


async def test_a_back_link_goes_to_the_referring_page_of_this_site_only(client) -> None:
    here = await client.get("/nowhere", headers={"Referer": "http://localhost/public/local"})
    assert 'href="/public/local"' in await here.get_data(as_text=True)
    away = await client.get("/nowhere", headers={"Referer": "https://evil.example/x"})
    assert "evil.example" not in await away.get_data(as_text=True)


async def test_429_and_503_say_when_to_retry(app: Quart) -> None:
    async with app.test_request_context("/login", headers=VI):
        await app.preprocess_request()
        soon = await error_response(503, "Máy chủ đang bận.", retry_after=5)
        later = await error_response(429, "Quá nhiều lần thử.", retry_after=600)
    assert soon.headers["Retry-After"] == "5"
    soon_body = await soon.get_data(as_text=True)
    assert "Máy chủ đang bận" in soon_body and "5 giây" in soon_body
    assert 'href="/login"' in soon_body  # try again: the same page
    later_body = await later.get_data(as_text=True)
    assert "10 phút" in later_body and "Quá nhiều lần thử" in later_body


async def test_get_on_the_post_form_url_goes_to_the_composer(app: Quart) -> None:
    """A reload after a refused post re-requests /posts with GET: the home feed, not a 405."""
    client = await user(app, "an")
    response = await client.get("/posts")
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    home = await client.get(response.headers["Location"])
    assert 'id="compose-text"' in await home.get_data(as_text=True)
    # A signed-out reader is sent to log in, then to the composer.
    anonymous = await app.test_client().get("/posts", follow_redirects=True)
    assert anonymous.status_code == 200
    # The other form-only URLs go to the page holding their form.
    # (GET /p/<id>/delete is the confirmation page; the reactions have no page of their own.)
    assert (await client.get("/p/12/like")).headers["Location"] == "/p/12"
    assert (await client.get("/follow_requests/approve")).headers["Location"] == "/follow_requests"


def _multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    """A body as a browser sends the compose form: the fields in order, then the empty file
    input (the test client would put files first)."""
    boundary = "gapo-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


async def test_a_csrf_failure_keeps_the_typed_post(app: Quart) -> None:
    client = await user(app, "hoa")
    text = "Chiều nay ai đi chợ hoa Tết ở Nguyễn Huệ không? <3"
    body, content_type = _multipart(
        [("csrf_token", "stale-token"), ("summary", "Tết"), ("text", text)]
    )
    refused = await client.post("/posts", data=body, headers={"Content-Type": content_type})
    assert refused.status_code == 403
    page = await refused.get_data(as_text=True)
    match = TEXTAREA.search(page)
    assert match and html.unescape(match.group(1)) == text
    assert 'value="Tết"' in page and "The form expired" in page
    fresh = CSRF_RE.search(page)
    assert fresh and fresh.group(1) == await csrf_of(client, "/home")

    # Sent again with the page's fresh token, it is posted.
    body, content_type = _multipart([("csrf_token", fresh.group(1)), ("text", text)])
    posted = await client.post("/posts", data=body, headers={"Content-Type": content_type})
    assert posted.status_code in (302, 303), await posted.get_data(as_text=True)


async def test_a_csrf_failure_of_an_urlencoded_post_keeps_it_too(app: Quart) -> None:
    client = await user(app, "lan")
    refused = await client.post("/posts", form={"csrf_token": "old", "text": "Xin chào cả nhà"})
    assert refused.status_code == 403
    page = await refused.get_data(as_text=True)
    match = TEXTAREA.search(page)
    assert match and match.group(1) == "Xin chào cả nhà"
    # Any other form that fails its check still gets the plain 403 page.
    other = await client.post("/follow", form={"csrf_token": "old", "account_id": "1"})
    assert other.status_code == 403 and 'id="compose-text"' not in await other.get_data(
        as_text=True
    )
