"""HTML in and out: sanitising remote HTML, and rendering local plain text to safe HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

from activitypub.entities import Entity, entities

# Mastodon's allowlist for incoming content, with the inline marks it also keeps
# (strike-through, insertion, super/subscript, small print).
ALLOWED_TAGS = {
    "p",
    "s",
    "ins",
    "sup",
    "sub",
    "small",
    "br",
    "span",
    "a",
    "del",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {
    # `class` is allowed through ALLOWED_CLASSES only, value by value.
    "a": {"href", "title"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
ALLOWED_SCHEMES = {"http", "https"}
# Only the class names Mastodon itself emits for mentions, hashtags and link shortening.
ALLOWED_CLASSES = {
    "a": {"mention", "hashtag", "u-url", "h-card", "status-link", "unhandled-link"},
    "span": {"h-card", "invisible", "ellipsis", "u-url", "mention", "hashtag"},
}


# Block elements outside the allowlist would vanish with nothing between their texts
# (`<h1>a</h1><h2>b</h2>` read "ab"): headings become bold paragraphs, other blocks
# paragraph boundaries, before the allowlist runs. The regexes only move text between
# paragraphs; nh3 still parses and cleans the result, so a malformed tag cannot get through.
_HEADING_OPEN = re.compile(r"(?i)<h[1-6](?:\s[^>]*)?>")
_HEADING_CLOSE = re.compile(r"(?i)</h[1-6]\s*>")
_BLOCK_TAG = re.compile(
    r"(?i)</?(?:div|section|article|header|footer|main|nav|aside|figure|figcaption|table|"
    r"thead|tbody|tfoot|tr|dl|dt|dd|details|summary|address|hr)(?:\s[^>]*)?/?>"
)
_CELL_END = re.compile(r"(?i)</t[dh]\s*>")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>")
# An inline image is not kept (a reader's browser would load it from a third party), but
# its alt text is what the author wrote for people who cannot see it: keep it as text.
_IMAGE_WITH_ALT = re.compile(
    r"""(?is)<img\b[^>]*?\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))[^>]*>"""
)
# Allowed classes are filtered value by value; when none is left nh3 keeps `class=""`.
_EMPTY_CLASS = re.compile(r' class=""')


def _image_alt_text(match: re.Match[str]) -> str:
    alt = next((group for group in match.groups() if group is not None), "")
    return html.escape(html.unescape(alt), quote=False)


def _separate_blocks(raw: str) -> str:
    raw = _IMAGE_WITH_ALT.sub(_image_alt_text, raw)
    raw = _HEADING_OPEN.sub("<p><strong>", raw)
    raw = _HEADING_CLOSE.sub("</strong></p>", raw)
    raw = _CELL_END.sub(" ", raw)
    return _BLOCK_TAG.sub("<p>", raw)


def sanitize_html(raw: str) -> str:
    """Remote HTML reduced to the allowlist; links get rel=nofollow noopener noreferrer."""
    clean = nh3.clean(
        _separate_blocks(raw),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        allowed_classes=ALLOWED_CLASSES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return _EMPTY_PARAGRAPH.sub("", _EMPTY_CLASS.sub("", clean))


# Given a tag (as written, no sign) or a mention (username, host or None), the URL to
# link it to, or None to leave it as text (an unknown account, say).
HashtagHref = Callable[[str], str | None]
MentionHref = Callable[[str, str | None], str | None]


def _link(
    entity: Entity, hashtag_href: HashtagHref | None, mention_href: MentionHref | None
) -> str:
    text = html.escape(entity.text, quote=False)
    if entity.kind == "url":
        return (
            f'<a href="{html.escape(entity.name)}" rel="nofollow noopener noreferrer"'
            f' target="_blank">{text}</a>'
        )
    if entity.kind == "hashtag":
        href = hashtag_href(entity.name) if hashtag_href else None
        if href is None:
            return text
        # Mastodon's markup, so that its clients and ours style and parse it alike.
        return (
            f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
            f"{html.escape(entity.text[0], quote=False)}"
            f"<span>{html.escape(entity.name, quote=False)}</span></a>"
        )
    href = mention_href(entity.name, entity.host) if mention_href else None
    if href is None:
        return text
    return (
        f'<span class="h-card"><a href="{html.escape(href)}" class="u-url mention">'
        f"@<span>{html.escape(entity.name, quote=False)}</span></a></span>"
    )


def _linkify_escaped(
    line: str, hashtag_href: HashtagHref | None, mention_href: MentionHref | None
) -> str:
    out: list[str] = []
    last = 0
    for entity in entities(line):
        out.append(html.escape(line[last : entity.start], quote=False))
        out.append(_link(entity, hashtag_href, mention_href))
        last = entity.end
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)


def text_to_html(
    text: str,
    *,
    hashtag_href: HashtagHref | None = None,
    mention_href: MentionHref | None = None,
) -> str:
    """Plain text to HTML: escaped, URLs linked, blank lines make paragraphs, newlines <br>.

    Hashtags and mentions become links when the callbacks name a URL for them.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = [
        "<p>"
        + "<br>".join(_linkify_escaped(line, hashtag_href, mention_href) for line in p.split("\n"))
        + "</p>"
        for p in paragraphs
    ]
    return "".join(rendered)
