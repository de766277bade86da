"""Remote HTML is reduced to Mastodon's allowlist; local text is escaped and linked."""

from __future__ import annotations

import pytest

from activitypub.html import sanitize_html, text_to_html

XSS = [
    "<script>alert(1)</script><p>hi</p>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<p onclick="alert(1)">x</p>',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<a href="https://ok.example" style="color:red" class="evil mention">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("raw", XSS)
def test_sanitize_removes_scripts_and_handlers(raw: str) -> None:
    """No script, event handler, style or non-http link survives sanitising."""
    clean = sanitize_html(raw).lower()
    for needle in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "data:",
        "<iframe",
        "<style",
        "<img",
        "<svg",
        "style=",
    ):
        assert needle not in clean


def test_sanitize_keeps_mastodon_markup() -> None:
    """Mentions, hashtags, paragraphs and links stay, with a safe rel and allowed classes."""
    raw = (
        '<p><span class="h-card"><a href="https://m.example/@a" class="u-url mention evil">'
        '@<span>a</span></a></span> hi <a href="https://m.example/tags/x" class="hashtag">#x'
        "</a></p>"
    )
    clean = sanitize_html(raw)
    assert 'class="u-url mention"' in clean
    assert "evil" not in clean
    assert 'rel="nofollow noopener noreferrer"' in clean
    assert clean.startswith("<p>")


def test_text_to_html_escapes_and_links() -> None:
    """Local text is escaped, its URLs linked, its paragraphs kept."""
    html = text_to_html('<b>hi</b> see https://example.org/a?b=1&c=2.\n\nnext "para"')
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2"' in html
    assert html.count("<p>") == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<h1>a</h1><h2>b</h2>", "<p><strong>a</strong></p><p><strong>b</strong></p>"),
        ("<div>a</div><div>b</div>", "<p>a</p><p>b</p>"),
        ("<p>a<hr>b</p>", "<p>a</p><p>b</p>"),
        ("<table><tr><td>1</td><td>2</td></tr></table>", "<p>1 2 </p>"),
    ],
)
def test_removed_blocks_keep_their_texts_apart(raw: str, expected: str) -> None:
    """Headings become bold paragraphs and other blocks paragraph breaks, not run-on text."""
    assert sanitize_html(raw) == expected


def test_inline_marks_are_kept() -> None:
    """s, ins, sup, sub and small survive, as in Mastodon's allowlist."""
    raw = "<p><s>old</s> <ins>new</ins> H<sub>2</sub>O x<sup>2</sup> <small>fine print</small></p>"
    assert sanitize_html(raw) == raw


def test_a_removed_class_leaves_no_empty_attribute() -> None:
    clean = sanitize_html(
        '<p><span class="evil">x</span> <a href="https://a.example" class="x">y</a></p>'
    )
    assert "class" not in clean
    assert "<span>x</span>" in clean


def test_an_inline_image_leaves_its_alt_text() -> None:
    """The image itself is never kept (a third-party load); what its alt text says is."""
    clean = sanitize_html(
        '<p>look <img src="https://t.example/c.png" alt="a cat &amp; a dog"> here</p>'
    )
    assert clean == "<p>look a cat &amp; a dog here</p>"
    hostile = sanitize_html("<img alt='<script>alert(1)</script>' src=x onerror=alert(1)>")
    assert "<script" not in hostile and "onerror" not in hostile
    assert "&lt;script&gt;" in hostile
