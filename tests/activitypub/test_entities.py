"""Hashtags and mentions in plain text: any script, one key per tag, nothing inside URLs."""

from __future__ import annotations

import unicodedata

import pytest

from activitypub.entities import entities, hashtags, is_valid_tag, mentions, tag_key
from activitypub.html import text_to_html


def test_vietnamese_case_and_normal_forms_share_one_key() -> None:
    """`#ViệtNam`, `#việtnam`, `#VIỆTNAM` and the decomposed spelling are one tag."""
    decomposed = unicodedata.normalize("NFD", "ViệtNam")
    assert decomposed != "ViệtNam"
    keys = {tag_key(n) for n in ("ViệtNam", "việtnam", "VIỆTNAM", decomposed, "#ViệtNam")}
    assert keys == {"việtnam"}


def test_first_written_form_is_kept() -> None:
    """Of two spellings of one tag in a text, the first one written is the one returned."""
    assert hashtags("#ViệtNam yêu #việtnam và #VIỆTNAM") == ["ViệtNam"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xin chào #ViệtNam!", ["ViệtNam"]),
        ("今日は #日本語 の日。#東京", ["日本語", "東京"]),
        ("مرحبا #مرحبا_بكم، كيف", ["مرحبا_بكم"]),
        ("नमस्ते #हिन्दी भाषा", ["हिन्दी"]),
        ("Привет #Москва.", ["Москва"]),
        ("full-width ＃日本 sign", ["日本"]),
        ("ce l'ha detto #l·lusió", ["l·lusió"]),
        ("(#tag) #tag, #tag. #tag; #tag? #tag!", ["tag"]),
        ("#snake_case and #2024goals", ["snake_case", "2024goals"]),
    ],
)
def test_hashtags_in_many_scripts(text: str, expected: list[str]) -> None:
    """Letters, digits, marks and underscores of any script make a tag; punctuation ends it."""
    assert hashtags(text) == expected


def test_combining_marks_stay_in_the_tag() -> None:
    """Combining marks (decomposed Vietnamese, Devanagari vowel signs) do not cut a tag short."""
    decomposed = unicodedata.normalize("NFD", "#tiếngviệt rồi")
    assert hashtags(decomposed) == ["tiếngviệt"]  # returned composed
    assert hashtags("#क्षत्रिय") == ["क्षत्रिय"]


@pytest.mark.parametrize(
    "text",
    [
        "#123",
        "#2024",
        "issue#12",
        "C# and F#",
        "a#b",
        "&#39; entity",
        "https://vi.wikipedia.org/wiki/Việt_Nam#Lịch_sử",
        "see https://example.org/page#section-2 now",
        "https://example.org/#/route",
        "# heading",
        "##",
    ],
)
def test_not_hashtags(text: str) -> None:
    """Pure numbers, words glued to a sign, URL fragments and a bare sign are not tags."""
    assert hashtags(text) == []


def test_url_fragment_and_tag_after_it() -> None:
    """A URL keeps its fragment; a tag after the URL is still found."""
    found = entities("read https://example.org/a#frag then #real")
    assert [(e.kind, e.name) for e in found] == [
        ("url", "https://example.org/a#frag"),
        ("hashtag", "real"),
    ]


def test_is_valid_tag() -> None:
    """A tag name needs a letter or mark, only tag characters, and bounded length."""
    assert is_valid_tag("việtnam")
    assert is_valid_tag("2024goals")
    assert not is_valid_tag("2024")
    assert not is_valid_tag("two words")
    assert not is_valid_tag("dash-ed")
    assert not is_valid_tag("a" * 101)
    assert not is_valid_tag("")


def test_mentions_local_and_remote() -> None:
    """`@name` and `@name@host` are found once each, lower-cased; e-mails and URLs are not."""
    text = (
        "hi @Alice and @bob@Example.org. also @alice, mail me@example.com, "
        "see https://m.example/@carol and @dave@host.example:8443"
    )
    assert mentions(text) == [
        ("alice", None),
        ("bob", "example.org"),
        ("dave", "host.example:8443"),
    ]


def test_text_to_html_links_tags_and_mentions_with_mastodon_markup() -> None:
    """Tags become `mention hashtag` links with rel=tag; known mentions become h-card links."""
    html = text_to_html(
        "chào #ViệtNam @bob @nobody <b>",
        hashtag_href=lambda name: f"https://gapo.example/tags/{tag_key(name)}",
        mention_href=lambda name, host: "https://gapo.example/@bob" if name == "bob" else None,
    )
    assert (
        '<a href="https://gapo.example/tags/việtnam" class="mention hashtag" rel="tag">'
        "#<span>ViệtNam</span></a>"
    ) in html
    assert (
        '<span class="h-card"><a href="https://gapo.example/@bob" class="u-url mention">'
        "@<span>bob</span></a></span>"
    ) in html
    assert "@nobody" in html
    assert "&lt;b&gt;" in html


def test_text_to_html_without_callbacks_leaves_tags_as_text() -> None:
    """Without link callbacks (a bio, say) tags and mentions stay escaped text."""
    assert text_to_html("#tag @bob") == "<p>#tag @bob</p>"
