"""Post cards in feeds: reply, like and share controls, who liked and shared, and the
compose form kept after a refused post."""

from __future__ import annotations

import re
from typing import Any

import pytest
from quart import Quart

from tests.helpers.social import account_id, act, at, gapo, page, user, write
from tests.helpers.web import csrf_of, post_form


def card(html: str, post_id: int) -> str:
    """The HTML of one post's card on a feed page."""
    start = html.index(f'id="post-{post_id}-card"')
    return html[start : html.index("</article>", start)]


# --- 1. Reply, like and share on every card ---


async def test_feed_card_has_reply_like_and_share_controls_when_signed_in(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(alice, "a card with controls")
    html = card(await page(bob, "/public/local"), post_id)
    # static/app.js swaps the enclosing [data-fragment] that has an id.
    assert "data-fragment" in html
    assert f'href="/p/{post_id}#reply"' in html
    assert f'aria-label="Reply to {at(app, "alice")}"' in html
    for action in ("like", "share"):
        form = re.search(rf'<form method="post" action="/p/{post_id}/{action}"[^>]*>', html)
        assert form is not None and "data-enhance" in form.group(0), action
    assert 'name="csrf_token"' in html
    assert 'name="next" value="/public/local#post-' in html
    assert f'aria-label="Like post by {at(app, "alice")}"' in html
    assert f'aria-label="Share post by {at(app, "alice")}"' in html
    # The post page has the reply form the card's link leads to.
    assert 'id="reply"' in await page(bob, f"/p/{post_id}")
    # Anonymous readers see the counts only.
    anonymous = card_or_article(await page(app.test_client(), "/public/local"), post_id)
    assert "<form" not in anonymous and "#reply" not in anonymous


def card_or_article(html: str, post_id: int) -> str:
    start = html.index(f'id="post-{post_id}-author"')
    return html[html.rindex("<article", 0, start) : html.index("</article>", start)]


async def test_card_shows_done_state_and_comes_back_to_the_feed(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act(bob, "/follow", account_id=str(await account_id(app, "alice")))
    post_id = await write(alice, "like me from the feed")
    response = await act(bob, f"/p/{post_id}/like", next=f"/home#post-{post_id}-card")
    assert response.headers["Location"] == f"/home#post-{post_id}-card"
    await act(bob, f"/p/{post_id}/share", next="/home")
    html = card(await page(bob, "/home"), post_id)
    assert f'action="/p/{post_id}/unlike"' in html and f'action="/p/{post_id}/unshare"' in html
    assert html.count('aria-pressed="true"') == 2
    assert f'aria-label="Undo like of post by {at(app, "alice")}"' in html
    assert '<span class="like-count">1</span>' in html
    # Another reader's card is not pressed.
    carol = await user(app, "carol")
    other = card(await page(carol, "/public/local"), post_id)
    assert f'action="/p/{post_id}/like"' in other and 'aria-pressed="true"' not in other


async def test_viewer_reactions_are_one_query_per_page(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act(bob, "/follow", account_id=str(await account_id(app, "alice")))
    ids = [await write(alice, f"post number {n}") for n in range(5)]
    for post_id in ids[:3]:
        await act(bob, f"/p/{post_id}/like")
    db = gapo(app).db
    seen: list[str] = []
    original = db.fetch_all

    async def counting(sql: str, params: Any = None) -> Any:
        if "FROM likes" in sql or "FROM shares" in sql:
            seen.append(sql)
        return await original(sql, params)

    monkeypatch.setattr(db, "fetch_all", counting)
    html = await page(bob, "/home")
    reaction_reads = [sql for sql in seen if "account_id = :a" in sql]
    assert len(reaction_reads) == 1, reaction_reads
    assert sum(f'action="/p/{i}/unlike"' in html for i in ids) == 3


async def test_share_button_hidden_for_followers_only_and_direct_posts(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act(bob, "/follow", account_id=str(await account_id(app, "alice")))
    private = await write(alice, "for followers only", visibility="followers")
    direct = await write(alice, f"psst {at(app, 'bob')}", visibility="direct")
    public = await write(alice, "for everyone")
    home = await page(bob, "/home")
    for post_id in (private, direct):
        html = card(home, post_id)
        assert f'action="/p/{post_id}/like"' in html
        assert f'action="/p/{post_id}/share"' not in html
        focus = await page(bob, f"/p/{post_id}")
        assert f'action="/p/{post_id}/like"' in focus
        assert f'action="/p/{post_id}/share"' not in focus
    assert f'action="/p/{public}/share"' in card(home, public)
    assert f'action="/p/{public}/share"' in await page(bob, f"/p/{public}")


async def test_reply_cards_on_a_post_page_have_controls_but_the_focus_has_its_own(
    app: Quart,
) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    root = await write(alice, "the root")
    response = await post_form(
        bob, "/posts", {"text": "an answer", "in_reply_to": str(root)}, csrf_from="/home"
    )
    assert response.status_code in (302, 303)
    html = await page(alice, f"/p/{root}")
    replies = html.split('class="replies"', 1)[1]
    reply_id = int(re.findall(r'id="post-(\d+)-card"', replies)[0])
    assert f'action="/p/{reply_id}/like"' in card(replies, reply_id)
    # The focus post is not a card of its own: one like button, in the actions block.
    assert f'id="post-{root}-card"' not in html
    assert html.count(f'action="/p/{root}/like"') == 1


# --- 2. Who liked, who shared ---


async def test_likes_and_shares_pages_list_the_accounts(app: Quart) -> None:
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    post_id = await write(alice, "popular")
    await act(bob, f"/p/{post_id}/like")
    await act(carol, f"/p/{post_id}/like")
    await act(carol, f"/p/{post_id}/share")
    feed = await page(app.test_client(), "/public/local")
    assert f'href="/p/{post_id}/likes"' in feed and f'href="/p/{post_id}/shares"' in feed
    likes = await page(app.test_client(), f"/p/{post_id}/likes")
    assert "Liked by" in likes and at(app, "bob") in likes and at(app, "carol") in likes
    # Newest first.
    assert likes.index(at(app, "carol")) < likes.index(at(app, "bob"))
    shares = await page(app.test_client(), f"/p/{post_id}/shares")
    assert "Shared by" in shares and at(app, "carol") in shares and at(app, "bob") not in shares


async def test_likes_page_of_a_hidden_post_is_a_404_like_a_missing_one(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    private = await write(alice, "followers only", visibility="followers")
    for kind in ("likes", "shares"):
        hidden = await bob.get(f"/p/{private}/{kind}")
        missing = await bob.get(f"/p/{private + 12345}/{kind}")
        assert hidden.status_code == missing.status_code == 404
        # The same page but for the path itself (in the language switcher's form).
        hidden_body = (await hidden.get_data(as_text=True)).replace(str(private), "ID")
        missing_body = (await missing.get_data(as_text=True)).replace(str(private + 12345), "ID")
        assert hidden_body == missing_body
    # The author sees the list.
    assert "Nobody yet." in await page(alice, f"/p/{private}/likes")


async def test_likes_page_leaves_out_blocked_people_and_pages(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    import instance.posts.reactions_list as reactions_list

    alice = await user(app, "alice")
    post_id = await write(alice, "liked a lot")
    names = ["bob", "carol", "dave"]
    for name in names:
        await act(await user(app, name), f"/p/{post_id}/like")
    await act(alice, "/block", account_id=str(await account_id(app, "carol")))
    full = await page(alice, f"/p/{post_id}/likes")
    assert at(app, "carol") not in full and at(app, "bob") in full and at(app, "dave") in full

    monkeypatch.setattr(reactions_list, "PEOPLE_PAGE", 2)
    seen: list[str] = []
    path = f"/p/{post_id}/likes"
    for _ in range(5):
        html = await page(app.test_client(), path)
        seen += [n for n in names if at(app, n) in html]
        match = re.search(r'href="\?max_id=(\d+)">Older<', html)
        if match is None:
            break
        path = f"/p/{post_id}/likes?max_id={match.group(1)}"
    assert sorted(seen) == sorted(names)


# --- 5. A refused post keeps what was typed ---


async def test_refused_post_renders_the_form_with_the_typed_values(app: Quart) -> None:
    alice = await user(app, "alice")
    token = await csrf_of(alice, "/home")
    response = await alice.post(
        "/posts",
        form={
            "csrf_token": token,
            "text": "x" * (gapo(app).settings.max_post_chars + 1),
            "summary": "my <careful> warning",
            "visibility": "followers",
            "language": "vi",
        },
    )
    assert response.status_code == 422
    html = await response.get_data(as_text=True)
    assert 'role="alert"' in html and "at most" in html
    assert 'value="my &lt;careful&gt; warning"' in html
    assert re.search(r'<input type="radio" [^>]*value="followers"[^>]* checked>', html)
    assert re.search(r'<option value="vi" lang="vi" selected>', html)
    assert "x" * 100 in html
    assert 'aria-invalid="true"' in html
    assert await gapo(app).db.fetch_value("SELECT COUNT(*) FROM posts") == 0


async def test_refused_reply_keeps_the_parent_and_text(app: Quart) -> None:
    alice = await user(app, "alice")
    root = await write(alice, "root")
    response = await post_form(
        alice, "/posts", {"text": "   ", "in_reply_to": str(root)}, csrf_from="/home"
    )
    assert response.status_code == 422
    html = await response.get_data(as_text=True)
    assert f'name="in_reply_to" value="{root}"' in html and "Write something first." in html


async def test_non_numeric_in_reply_to_is_refused_not_posted_top_level(app: Quart) -> None:
    alice = await user(app, "alice")
    before = await gapo(app).db.fetch_value("SELECT COUNT(*) FROM posts")
    response = await post_form(
        alice, "/posts", {"text": "meant as a reply", "in_reply_to": "abc"}, csrf_from="/home"
    )
    assert response.status_code == 400
    html = await response.get_data(as_text=True)
    assert "The post to reply to is not valid." in html
    assert "meant as a reply" in html
    assert await gapo(app).db.fetch_value("SELECT COUNT(*) FROM posts") == before


# --- 10. Machine-readable times ---


async def test_time_elements_carry_an_iso_datetime(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "what time is it")
    html = await page(alice, f"/p/{post_id}")
    match = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    assert match is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", match.group(1))
    # Shown relative ("just now"), the exact moment with its offset on hover.
    assert match.group(3) == "just now"
    assert re.search(r"\d{4}.*[+-]\d{4}$", match.group(2)), match.group(2)
