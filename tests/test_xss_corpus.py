"""An XSS corpus through every place a person or a peer can put text, on every page.

Each payload is written, in one instance, into a local post (content and content
warning), a local profile (display name, bio, profile field names and values), the
search box, and a remote actor (name, summary, profile fields) and its note (content
and summary) ingested as a peer would send them. Every page that shows them is then
parsed, and none may hold markup that runs: no script but our own (`OUR_SCRIPTS`), no
`on…=` attribute, no `javascript:` link or source, no frames, SVG or MathML. A template
expression in the text stays text (`{{7*7}}` never becomes 49). Every answer carries
the Content-Security-Policy that forbids inline script.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_actor
from tests.helpers.web import post_form, signup

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "javascript:alert(1)",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<b onmouseover=alert(1)>unclosed",
    '<div title="x" <script>alert(1)</script>',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "tpl{{7*7}}tpl {% if 1 %}tpl-block{% endif %} ${7*7}",
]

FORBIDDEN_TAGS = {"iframe", "frame", "object", "embed", "svg", "math", "style", "base", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
# The only scripts a page may load: ours, from /static/, deferred (templates/base.html).
OUR_SCRIPTS = [
    [("src", f"/static/{name}.js"), ("defer", None)]
    for name in ("app", "blurhash", "media", "composer", "feed")
]


class Scanner(HTMLParser):
    """Collects every piece of markup that could run script in a browser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attrs not in OUR_SCRIPTS:
            self.problems.append(f"script tag {attrs}")
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and set(attributes) - {"charset", "name", "content"}:
            self.problems.append(f"meta {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> handler")
            if name in URL_ATTRIBUTES and value is not None:
                squashed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squashed.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def assert_inert(body: str, where: str) -> None:
    scanner = Scanner()
    scanner.feed(body)
    scanner.close()
    assert not scanner.problems, f"{where}: {scanner.problems}"
    assert "tpl49tpl" not in body, f"{where}: a template expression was evaluated"
    leftover = body.replace("{% if 1 %}tpl-block", "")
    assert "tpl-block" not in leftover, f"{where}: a template block ran"


async def read(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status_code in (200, 404), f"{path}: {response.status_code}"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, f"{path}: CSP {csp!r}"
    body = str(await response.get_data(as_text=True))
    assert_inert(body, path)
    return body


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


async def remote_actor_and_note(app: Quart, payload: str) -> tuple[int, int]:
    """A remote actor and its public note, carrying the payload everywhere text goes."""
    gapo = app.extensions["gapo"]
    actor_doc = copy.deepcopy(fixture("actor-person-gargron.json"))
    actor_doc.pop("outbox", None)  # no network: the profile preview reads nothing remote
    actor_doc["name"] = payload[:100]
    actor_doc["summary"] = f"<p>{payload}</p>"
    actor_doc["attachment"] = [
        {"type": "PropertyValue", "name": payload[:200], "value": payload},
        {"type": "PropertyValue", "name": "site", "value": f'<a href="{payload}">x</a>'},
    ]
    account = await gapo.actors.store(parse_actor(actor_doc))
    note_doc = copy.deepcopy(fixture("note-mastodon-madrid.json"))
    note_doc.update(
        {
            "id": f"{actor_doc['id']}/statuses/1",
            "url": f"{actor_doc['id']}/statuses/1",
            "attributedTo": actor_doc["id"],
            "inReplyTo": None,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [actor_doc["followers"]],
            "summary": payload,
            "content": f"<p>remote says {payload}</p>",
            "tag": [],
        }
    )
    note_doc.pop("contentMap", None)
    post = await gapo.federation.notes.ingest(note_doc, author=account)
    return int(account["id"]), int(post["id"])


async def newest_post_id(app: Quart) -> int:
    return int(await app.extensions["gapo"].db.fetch_value("SELECT MAX(id) AS n FROM posts"))


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"p{i:02d}" for i in range(len(PAYLOADS))])
async def test_payload_stays_inert_everywhere(app: Quart, payload: str) -> None:
    me = app.test_client()
    assert (await signup(me, "linh")).status_code == 302
    response = await post_form(
        me,
        "/settings/profile",
        {
            "display_name": payload[:100],
            "bio": payload,
            "field_name_0": payload[:255],
            "field_value_0": payload,
            "field_name_1": "web",
            "field_value_1": payload,
        },
        csrf_from="/settings/profile",
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    response = await post_form(
        me, "/posts", {"text": f"local says {payload}", "summary": payload}, csrf_from="/home"
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    local_post = await newest_post_id(app)
    remote_account, remote_post = await remote_actor_and_note(app, payload)
    await post_form(me, f"/p/{remote_post}/like", {}, csrf_from="/home")
    await post_form(me, f"/p/{remote_post}/share", {}, csrf_from="/home")
    me_id = int((await app.extensions["gapo"].accounts.profile("linh"))["id"])

    anonymous = app.test_client()
    pages = [
        f"/p/{local_post}",
        f"/@linh/{local_post}",
        f"/p/{remote_post}",
        "/public/local",
        "/public",
        "/@linh",
        f"/accounts/{me_id}",
        f"/accounts/{remote_account}",
        f"/accounts/{remote_account}/followers",
        f"/search?q={quote(payload)}",
    ]
    for client in (me, anonymous):
        for path in pages:
            await read(client, path)
    for path in ("/home", "/settings/profile", f"/p/{local_post}/edit", "/notifications"):
        await read(me, path)

    # The payload did get through as text somewhere: this is not a vacuous pass.
    profile = await read(anonymous, "/@linh")
    assert "local says" in profile
    timeline = await read(anonymous, "/public")
    assert "remote says" in timeline


async def test_remote_urls_are_never_javascript(app: Quart) -> None:
    """Links a peer controls (profile URL, avatar, attachment) never become `javascript:`."""
    gapo = app.extensions["gapo"]
    actor_doc = copy.deepcopy(fixture("actor-person-gargron.json"))
    actor_doc.pop("outbox", None)
    actor_doc["url"] = "javascript:alert(1)"
    actor_doc["icon"] = {"type": "Image", "url": "javascript:alert(2)"}
    actor_doc["image"] = {"type": "Image", "url": "javascript:alert(3)"}
    account = await gapo.actors.store(parse_actor(actor_doc))
    note_doc = copy.deepcopy(fixture("note-with-attachment.json"))
    note_doc.update(
        {
            "id": f"{actor_doc['id']}/statuses/2",
            "url": "javascript:alert(4)",
            "attributedTo": actor_doc["id"],
            "inReplyTo": None,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [],
        }
    )
    for attachment in note_doc.get("attachment", []):
        attachment["url"] = "javascript:alert(5)"
    post = await gapo.federation.notes.ingest(note_doc, author=account)
    client = app.test_client()
    await signup(client, "linh")
    for path in (f"/accounts/{account['id']}", f"/p/{post['id']}", "/public", "/home"):
        await read(client, path)


async def test_csp_on_every_kind_of_answer(client: Client) -> None:
    """Pages, errors and redirects all carry the policy."""
    for path in ("/", "/login", "/signup", "/p/1", "/home", "/public", "/search?q=%3Cx%3E"):
        response = await client.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "object-src 'none'" in csp, path


async def test_remote_actor_keeps_only_http_urls(app: Quart) -> None:
    actor_doc = copy.deepcopy(fixture("actor-person-gargron.json"))
    actor_doc["url"] = "javascript:alert(1)"
    actor_doc["icon"] = {"type": "Image", "url": "javascript:alert(2)"}
    actor_doc["image"] = {"type": "Image", "url": "data:text/html,<script>alert(3)</script>"}
    account = await app.extensions["gapo"].actors.store(parse_actor(actor_doc))
    for column in ("ap_url", "avatar_url", "header_url"):
        value = account[column] or ""
        assert value == "" or value.startswith(("https://", "http://")), (column, value)
