"""Conversations and profiles: the reply tree, the replies collection, profile tabs and paging."""

from __future__ import annotations

import re

from quart import Quart

from tests.helpers.social import create_post, gapo, page, user

AP = {"Accept": "application/activity+json"}


def replies_section(html: str) -> str:
    return html.split('class="replies"', 1)[1]


async def test_post_page_shows_the_reply_tree_nested(app: Quart) -> None:
    await user(app, "alice")
    bob = await user(app, "bob")
    await user(app, "carol")
    root = await create_post(app, "alice", "root post")
    first = await create_post(app, "bob", "first answer", reply_to=root)
    nested = await create_post(app, "alice", "answer to bob", reply_to=first)
    deeper = await create_post(app, "carol", "answer to alice", reply_to=nested)
    second = await create_post(app, "carol", "second answer", reply_to=root)

    html = replies_section(await page(bob, f"/p/{root}"))
    order = [html.index(f"/p/{pid}") for pid in (first, nested, deeper, second)]
    assert order == sorted(order), "depth-first, oldest first at each level"
    # Nesting: three list levels open before the deepest reply.
    before_deeper = html[: html.index(f"/p/{deeper}")]
    assert before_deeper.count("<ul") - before_deeper.count("</ul>") == 3


async def test_hidden_reply_hides_its_branch(app: Quart) -> None:
    await user(app, "alice")
    stranger = await user(app, "sam")
    bob = await user(app, "bob")
    root = await create_post(app, "alice", "root post")
    private = await create_post(
        app, "bob", "for my followers", reply_to=root, visibility="followers"
    )
    # A public answer under a hidden reply would still reveal the reply it answers.
    under = await create_post(app, "bob", "public answer under it", reply_to=private)

    html = replies_section(await page(stranger, f"/p/{root}"))
    assert f"/p/{private}" not in html and f"/p/{under}" not in html
    assert "No replies yet." in html
    # The author of the hidden reply still sees the whole branch.
    html = replies_section(await page(bob, f"/p/{root}"))
    assert f"/p/{private}" in html and f"/p/{under}" in html


async def test_replies_collection_lists_visible_replies(app: Quart) -> None:
    await user(app, "alice")
    await user(app, "bob")
    root = await create_post(app, "alice", "root post")
    public = await create_post(app, "bob", "public answer", reply_to=root)
    hidden = await create_post(
        app, "bob", "followers answer", reply_to=root, visibility="followers"
    )
    client = app.test_client()
    base = gapo(app).urls.note("alice", root)
    path = base.split("localhost:8000", 1)[-1] if "localhost:8000" in base else base

    collection = await client.get(f"{path}/replies", headers=AP)
    assert collection.status_code == 200
    doc = await collection.get_json()
    assert doc["type"] == "Collection" and doc["id"] == f"{base}/replies"
    assert doc["first"] == f"{base}/replies?page=true"

    first = await (await client.get(f"{path}/replies?page=true", headers=AP)).get_json()
    assert first["type"] == "CollectionPage" and first["partOf"] == f"{base}/replies"
    assert gapo(app).urls.note("bob", public) in first["items"]
    assert gapo(app).urls.note("bob", hidden) not in first["items"]

    secret = await create_post(app, "alice", "direct", visibility="direct")
    secret_path = path.replace(str(root), str(secret))
    missing = await client.get(f"{secret_path}/replies", headers=AP)
    unknown = await client.get(f"{path.replace(str(root), '999999999')}/replies", headers=AP)
    assert missing.status_code == unknown.status_code == 404


async def test_profile_tabs_separate_replies_and_keep_threads(app: Quart) -> None:
    alice = await user(app, "alice")
    await user(app, "bob")
    other = await create_post(app, "bob", "bob's post")
    top = await create_post(app, "alice", "a top-level post")
    reply = await create_post(app, "alice", "a reply to bob", reply_to=other)
    thread = await create_post(app, "alice", "continuing my own thread", reply_to=top)

    posts_tab = await page(alice, "/@alice")
    assert f"/p/{top}" in posts_tab and f"/p/{thread}" in posts_tab
    assert f"/p/{reply}" not in posts_tab
    with_replies = await page(alice, "/@alice?with_replies=1")
    assert all(f"/p/{pid}" in with_replies for pid in (top, reply, thread))
    assert re.search(r"Posts: 3\b", posts_tab)


async def test_profile_count_ignores_private_posts_and_pages_by_id(app: Quart) -> None:
    visitor = app.test_client()
    await user(app, "alice")
    await create_post(app, "alice", "for followers", visibility="followers")
    ids = [await create_post(app, "alice", f"post number {n}") for n in range(25)]

    first = await page(visitor, "/@alice")
    assert re.search(r"Posts: 25\b", first)
    assert f"/p/{ids[-1]}" in first and f"/p/{ids[4]}" not in first
    older = re.search(r'href="(/@alice\?max_id=\d+)"', first)
    assert older is not None
    second = await page(visitor, older.group(1))
    assert f"/p/{ids[4]}" in second and f"/p/{ids[0]}" in second
    assert f"/p/{ids[-1]}" not in second
