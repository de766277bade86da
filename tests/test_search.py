"""Search: people by name and handle, hashtags and local public posts, without regard to
case or diacritics; only what may be found is found, and no query breaks the page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import PUBLIC, parse_actor
from instance.db.folding import fold
from instance.db.search import match_expression, terms_of
from tests.helpers.social import (
    account_id,
    act_ok,
    gapo,
    mastodon_fixture,
    page,
    remote_account,
    user,
    write,
)
from tests.helpers.web import post_form

CHECKED_SWITCH = re.compile(r'<input type="checkbox" id="indexable" name="indexable"[^>]*checked>')


async def search(client: Client, query: str) -> str:
    """The search page for `query`, which must answer 200."""
    return await page(client, f"/search?q={quote(query)}")


async def set_profile(client: Client, *, display_name: str, indexable: bool = True) -> None:
    """Save the profile form as a browser would: the search switch is a checkbox."""
    form = {"display_name": display_name, "bio": ""}
    if indexable:
        form["indexable"] = "on"
    response = await post_form(client, "/settings/profile", form, csrf_from="/settings/profile")
    assert response.status_code in (302, 303), await response.get_data(as_text=True)


async def remote_person(app: Quart, name: str, username: str) -> Any:
    """A known remote account (a Mastodon actor under another name); its row."""
    doc = mastodon_fixture("actor-person-gargron.json")
    doc = {**doc, "name": name, "preferredUsername": username}
    return await gapo(app).actors.store(parse_actor(doc))


def test_folding_lowercases_and_drops_marks_including_vietnamese_d() -> None:
    assert fold("Nguyễn Văn Minh") == "nguyen van minh"
    assert fold("ĐẶNG Thị Đào") == "dang thi dao"
    assert fold("#ViệtNam") == "#vietnam"


def test_each_query_word_is_quoted_for_fts5() -> None:
    """Words are folded and quoted (a quote doubled), so no FTS5 operator survives."""
    assert terms_of('Phở "bò" OR * NEAR(x)') == ["pho", '"bo"', "or", "near(x)"]
    assert match_expression(['"bo"', "or"], prefix=False) == '"""bo""" "or"'
    assert match_expression(["ngu"], prefix=True) == '"ngu"*'
    assert terms_of("*** -- ()") == []


async def test_people_are_found_by_name_without_diacritics(app: Quart) -> None:
    """'nguyen van minh' finds 'Nguyễn Văn Minh'; 'dang' finds 'Đặng' (đ does not decompose);
    a word's start is enough; known remote people are found too."""
    minh = await user(app, "minh")
    await set_profile(minh, display_name="Nguyễn Văn Minh")
    ha = await user(app, "thuha")
    await set_profile(ha, display_name="Đặng Thu Hà")
    await remote_person(app, "Trần Quốc Bảo", "quocbao")
    reader = await user(app, "reader")

    for query in ("nguyen van minh", "Nguyễn Văn Minh", "NGUYEN", "van min"):
        assert "Nguyễn Văn Minh" in await search(reader, query), query
    body = await search(reader, "dang thu ha")
    assert "Đặng Thu Hà" in body and "Nguyễn Văn Minh" not in body
    assert "Trần Quốc Bảo" in await search(reader, "tran quoc bao")
    assert "Trần Quốc Bảo" in await search(reader, "quocbao")  # the handle works too
    assert "/@thuha" in await search(reader, "thuha")


async def test_full_handles_and_local_names_still_open_the_profile(app: Quart) -> None:
    """`@name@host` and `@name` open the profile itself, as before; `@nobody` searches."""
    await user(app, "alice")
    reader = await user(app, "reader")
    host = gapo(app).settings.host
    for query in (f"@alice@{host}", "@alice", f"{gapo(app).settings.base_url}/users/alice"):
        body = await search(reader, query)
        assert 'class="p-name">alice<' in body, query
    body = await search(reader, "@nobodyhere")
    assert "Nothing found" in body


async def test_hashtags_are_found_with_or_without_sign_and_diacritics(app: Quart) -> None:
    """'#việtnam', 'viet nam', '#VietNam' and 'việt' all find the tag việtnam."""
    alice = await user(app, "alice")
    await write(alice, "Đi chơi #việtnam")
    reader = await user(app, "reader")
    link = f'href="/tags/{quote("việtnam")}"'
    for query in ("#việtnam", "viet nam", "#VietNam", "việt", "vietnam"):
        body = await search(reader, query)
        assert link in body or 'href="/tags/việtnam"' in body, query
    assert "#việtnam" not in await search(reader, "hanoi")


async def test_words_of_public_posts_are_found_and_nothing_else(app: Quart) -> None:
    """A public post is found by its words without diacritics; followers-only, unlisted and
    direct posts with the same words never are."""
    alice = await user(app, "alice")
    await write(alice, "Phở bò Hà Nội ngon tuyệt")
    await write(alice, "phở riêng tư followers", visibility="followers")
    await write(alice, "phở unlisted", visibility="unlisted")
    await write(alice, "phở direct @alice", visibility="direct")
    for reader in (await user(app, "reader"), app.test_client()):  # signed in, and not
        body = await search(reader, "pho")
        assert "Phở bò Hà Nội ngon tuyệt" in body
        assert "riêng tư" not in body and "unlisted" not in body and "direct" not in body
    assert "Phở bò" in await search(await user(app, "other"), "ha noi ngon")


async def test_remote_public_posts_are_not_searchable(app: Quart) -> None:
    """Posts from other servers stay out of the index: their authors did not choose ours."""
    author = await remote_account(app)
    note = {
        "id": f"{author['ap_id']}/statuses/1",
        "type": "Note",
        "attributedTo": author["ap_id"],
        "content": "<p>Bún bò Huế từ xa</p>",
        "published": "2026-01-01T00:00:00Z",
        "to": [PUBLIC],
        "cc": [],
    }
    await gapo(app).federation.notes.ingest(note, author=author)
    assert "Bún bò Huế từ xa" in await page(app.test_client(), "/public")
    assert "Bún bò Huế từ xa" not in await search(await user(app, "reader"), "bun bo hue")


async def test_an_edit_updates_the_index_and_a_delete_removes_the_post(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "bánh mì sáng nay")
    reader = await user(app, "reader")
    assert "bánh mì sáng nay" in await search(reader, "banh mi")
    await act_ok(alice, f"/p/{post_id}/edit", text="cơm tấm trưa nay")
    assert "cơm tấm" not in await search(reader, "banh mi")
    assert "cơm tấm trưa nay" in await search(reader, "com tam")
    await act_ok(alice, f"/p/{post_id}/delete")
    assert "cơm tấm" not in await search(reader, "com tam")
    rows = await gapo(app).db.fetch_all("SELECT rowid FROM post_search")
    assert rows == []


async def test_opting_out_hides_posts_until_opting_back_in(app: Quart) -> None:
    """The profile switch takes the posts out of search at once (and from the index), and
    back in when it is turned on again; the person's name stays findable."""
    alice = await user(app, "alice")
    await write(alice, "chè đậu xanh")
    reader = await user(app, "reader")
    assert "chè đậu xanh" in await search(reader, "che dau")
    assert CHECKED_SWITCH.search(await page(alice, "/settings/profile"))  # on by default

    await set_profile(alice, display_name="Alice Lê", indexable=False)
    assert not CHECKED_SWITCH.search(await page(alice, "/settings/profile"))
    assert "chè đậu xanh" not in await search(reader, "che dau")
    assert "Alice Lê" in await search(reader, "alice le")
    await write(alice, "chè bưởi")  # written while opted out
    assert "chè bưởi" not in await search(reader, "che")
    alice_id = await account_id(app, "alice")
    count = await gapo(app).db.fetch_value(
        "SELECT COUNT(*) FROM post_search WHERE rowid IN"
        " (SELECT id FROM posts WHERE account_id = :a)",
        {"a": alice_id},
    )
    assert count == 0
    actor = await gapo(app).documents.actor("alice")
    assert actor["indexable"] is False

    await set_profile(alice, display_name="Alice Lê", indexable=True)
    body = await search(reader, "che")
    assert "chè đậu xanh" in body and "chè bưởi" in body


async def test_blocks_hide_people_and_posts_from_search(app: Quart) -> None:
    alice = await user(app, "alice")
    await set_profile(alice, display_name="Alice Phạm")
    await write(alice, "hoa sen nở")
    reader = await user(app, "reader")
    await act_ok(alice, "/block", account_id=str(await account_id(app, "reader")))
    body = await search(reader, "pham")
    assert "Alice Phạm" not in body
    assert "hoa sen nở" not in await search(reader, "hoa sen")


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "pho*",
        "a OR b",
        "NEAR(pho bo)",
        "-pho",
        "folded:pho",
        "^pho",
        "(pho",
        "pho AND",
        'pho" OR "x',
        "#",
        "@",
        "%",
        "@@@",
        "#" * 300,
        "x" * 1000,
        "pho\x00bo",
        "'; DROP TABLE posts; --",
    ],
)
async def test_query_syntax_never_breaks_the_page(app: Quart, query: str) -> None:
    """FTS5 syntax, quotes and odd characters are searched for as text or refused with a
    clear message, never a 500."""
    alice = await user(app, "alice")
    await write(alice, "phở bò")
    response = await alice.get(f"/search?q={quote(query)}")
    assert response.status_code == 200, query
    body = await response.get_data(as_text=True)
    assert "Something went wrong" not in body


async def test_a_query_without_letters_gets_a_clear_answer(app: Quart) -> None:
    reader = await user(app, "reader")
    for query in ("***", "#", '"()"'):
        body = await search(reader, query)
        assert "Type a name, a #hashtag or a few words to search for." in body, query
    empty = await search(reader, "")
    assert 'role="alert"' not in empty


async def test_results_page_by_the_older_posts_link(app: Quart) -> None:
    """More than a page of matching posts: the older ones are one link away."""
    alice = await user(app, "alice")
    services = gapo(app)
    author = await services.accounts.profile("alice")
    for i in range(23):
        await services.posts.create(author, f"bún chả số {i}", visibility="public")
    del alice
    results = await services.search.find(None, "bun cha")
    assert len(results.posts) == 20 and results.next_max_id is not None
    older = await services.search.find(None, "bun cha", max_id=results.next_max_id)
    assert [p.content_html for p in older.posts][-1].count("số 0") == 1
    assert older.accounts == [] and older.next_max_id is None
