"""Hostile path segments, query arguments and form values: always an answer below 500.

Each route that takes an id, a name or a cursor is fed values a scanner or a hostile peer
would send: huge numbers (past 64 bits), non-ASCII digits, traversal, markup, long text.
"""

from __future__ import annotations

from urllib.parse import quote

from quart import Quart

from tests.helpers.web import post_form, signup

HOSTILE = [
    "",
    "0",
    "-1",
    "²",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "<script>alert(1)</script>",
    "ệ" * 300,
    "a b",
    "%FF",
    "1e5",
    "null",
]

GET_ROUTES = [
    "/tags/{}",
    "/tags/matrix?max_id={}",
    "/p/{}",
    "/p/{}/history",
    "/p/{}/edit",
    "/accounts/{}",
    "/accounts/{}/followers",
    "/accounts/{}/following",
    "/@{}",
    "/@{}/1",
    "/@alice?max_id={}&with_replies={}",
    "/search?q={}",
    "/home?max_id={}",
    "/public?max_id={}",
    "/public/local?max_id={}",
    "/notifications?max_id={}",
    "/media/{}",
    "/users/{}",
    "/users/alice/outbox?page=true&max_id={}",
    "/users/alice/followers?page={}&max_id={}",
    "/users/alice/statuses/{}",
    "/users/alice/statuses/{}/replies?page=true",
    "/users/alice/statuses/{}/activity",
    "/.well-known/webfinger?resource={}",
    "/nodeinfo/{}",
]

POST_ROUTES: list[tuple[str, dict[str, str]]] = [
    ("/p/{}/like", {}),
    ("/p/{}/unshare", {}),
    ("/p/1/{}", {}),
    ("/p/{}/edit", {"text": "{}"}),
    ("/p/{}/delete", {}),
    ("/follow", {"account_id": "{}"}),
    ("/unfollow", {"account_id": "{}"}),
    ("/block", {"account_id": "{}"}),
    ("/mute", {"account_id": "{}"}),
    ("/follow_requests/{}", {"account_id": "{}"}),
    ("/posts", {"text": "{}", "visibility": "{}", "language": "{}", "in_reply_to": "{}"}),
    ("/settings/profile", {"display_name": "{}", "bio": "{}", "field_name_0": "{}"}),
    ("/settings/locale", {"locale": "{}"}),
]


def fill(template: str, value: str) -> str:
    return template.replace("{}", quote(value, safe="%"))


async def test_hostile_gets_never_fail_the_server(app: Quart) -> None:
    signed_in = app.test_client()
    await signup(signed_in, "alice")
    await post_form(signed_in, "/posts", {"text": "hello #matrix"}, csrf_from="/home")
    failures = []
    for template in GET_ROUTES:
        for value in HOSTILE:
            path = fill(template, value)
            for client in (signed_in, app.test_client()):
                response = await client.get(path)
                if response.status_code >= 500:
                    failures.append((response.status_code, path))
    assert failures == []


async def test_hostile_forms_never_fail_the_server(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    failures = []
    for template, form in POST_ROUTES:
        for value in HOSTILE:
            data = {key: field.replace("{}", value) for key, field in form.items()}
            response = await post_form(client, fill(template, value), data, csrf_from="/home")
            if response.status_code >= 500:
                failures.append((response.status_code, template, value))
    assert failures == []
