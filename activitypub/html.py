"""HTML in and out: sanitising remote HTML, and rendering local plain text to safe HTML."""

from __future__ import annotations

import html
import re

import nh3

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

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


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


def _linkify_escaped(line: str) -> str:
    out: list[str] = []
    last = 0
    for match in URL_RE.finditer(line):
        out.append(html.escape(line[last : match.start()], quote=False))
        url = match.group(0)
        out.append(
            f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" target="_blank">'
            f"{html.escape(url, quote=False)}</a>"
        )
        last = match.end()
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)


def text_to_html(text: str) -> str:
    """Plain text to HTML: escaped, URLs linked, blank lines make paragraphs, newlines <br>."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = [
        "<p>" + "<br>".join(_linkify_escaped(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    ]
    return "".join(rendered)
