"""HTML in and out: sanitising remote HTML, and rendering local plain text to safe HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

from activitypub.entities import Entity, entities

# Mastodon's allowlist for incoming content.
ALLOWED_TAGS = {
    "p",
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


def sanitize_html(raw: str) -> str:
    """Remote HTML reduced to the allowlist; links get rel=nofollow noopener noreferrer."""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        allowed_classes=ALLOWED_CLASSES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def html_to_text(raw: str) -> str:
    """Plain text of an HTML fragment (for previews, notifications and search)."""
    with_breaks = re.sub(r"(?i)<br\s*/?>|</p>\s*<p[^>]*>", "\n", raw)
    stripped = nh3.clean(with_breaks, tags=set())
    return html.unescape(stripped).strip()


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
