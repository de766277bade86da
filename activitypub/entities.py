"""Finding URLs, #hashtags and @mentions in plain text, and the one key a hashtag is stored by.

Rendering (``activitypub.html.text_to_html``) and storage both read text through
``entities()``, so a word that is linked as a hashtag is exactly a word stored as
one, and nothing inside a URL (``https://x.example/#frag``, ``/@name``) counts.

Hashtags are written in any script: letters, digits, combining marks and
connector punctuation of every language make up a tag, so ``#ViệtNam`` typed as
composed or decomposed characters, ``#日本語`` and ``#مرحبا`` all parse. A tag
needs at least one letter or mark: ``#123`` is a number, not a tag.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
# Usernames as Mastodon allows them; a host's last label may not end in a dot, so a sentence
# ending in "@bob@example.org." does not swallow the full stop.
MENTION_RE = re.compile(
    r"(?<![\w@/.])@([a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?)"
    r"(?:@([a-z0-9\-]+(?:\.[a-z0-9\-]+)*(?::\d{1,5})?))?",
    re.IGNORECASE,
)
HASH_SIGNS = "#\uff03"  # the ASCII sign and the full-width one of CJK keyboards
MAX_TAG_LENGTH = 100
MAX_USERNAME_LENGTH = 64
# Zero-width joiner and non-joiner are part of words in Persian and the Indic scripts;
# the middle dot is part of Catalan words ("l·l").
_TAG_EXTRA = {"_", "\u200c", "\u200d", "\u00b7"}
# A hashtag right after one of these is part of something else: a path, an entity, a word.
_NOT_BEFORE_TAG = set("/)&@=") | set(HASH_SIGNS)

Kind = Literal["url", "hashtag", "mention"]


@dataclass(frozen=True)
class Entity:
    kind: Kind
    start: int
    end: int
    text: str  # exactly as written, sign included
    name: str  # the URL; the tag without its sign; the username
    host: str | None = None  # of a mention, when written as @name@host


def _is_tag_char(char: str) -> bool:
    return char in _TAG_EXTRA or unicodedata.category(char)[0] in "LMN"


def is_valid_tag(name: str) -> bool:
    """A tag name (no sign): tag characters only, not digits only, not too long."""
    if not name or len(name) > MAX_TAG_LENGTH:
        return False
    if not all(_is_tag_char(c) for c in name):
        return False
    return any(unicodedata.category(c)[0] in "LM" for c in name)


def tag_key(name: str) -> str:
    """The storage key of a tag: NFC then case-folded, so ``ViệtNam`` ≡ ``việtnam``.

    Case folding can leave decomposed sequences behind, hence NFC again afterwards.
    """
    stripped = name.lstrip(HASH_SIGNS)
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", stripped).casefold())


def display_form(name: str) -> str:
    """A tag as shown: composed characters, the case the author chose, no sign."""
    return unicodedata.normalize("NFC", name.lstrip(HASH_SIGNS))


def _hashtags_in(segment: str, offset: int) -> list[Entity]:
    found: list[Entity] = []
    i = 0
    while i < len(segment):
        if segment[i] not in HASH_SIGNS:
            i += 1
            continue
        before = segment[i - 1] if i > 0 else ""
        end = i + 1
        while end < len(segment) and _is_tag_char(segment[end]):
            end += 1
        name = segment[i + 1 : end]
        if (not before or not (_is_tag_char(before) or before in _NOT_BEFORE_TAG)) and (
            is_valid_tag(name)
        ):
            found.append(Entity("hashtag", offset + i, offset + end, segment[i:end], name))
        i = max(end, i + 1)
    return found


def _mentions_in(segment: str, offset: int) -> list[Entity]:
    found: list[Entity] = []
    for match in MENTION_RE.finditer(segment):
        name, host = match.group(1), match.group(2)
        if len(name) > MAX_USERNAME_LENGTH:
            continue
        found.append(
            Entity(
                "mention",
                offset + match.start(),
                offset + match.end(),
                match.group(0),
                name,
                host.lower() if host else None,
            )
        )
    return found


def entities(text: str) -> list[Entity]:
    """URLs, hashtags and mentions of a text, in order and never overlapping."""
    found: list[Entity] = []
    last = 0
    # URLs are found first and the rest is searched between them, so a fragment
    # (`#section`) or a path (`/@name`) of a link is never read as a tag or a mention.
    segments: list[tuple[int, str]] = []
    for match in URL_RE.finditer(text):
        segments.append((last, text[last : match.start()]))
        found.append(Entity("url", match.start(), match.end(), match.group(0), match.group(0)))
        last = match.end()
    segments.append((last, text[last:]))
    for offset, segment in segments:
        tags = _hashtags_in(segment, offset)
        mentions = [
            m
            for m in _mentions_in(segment, offset)
            if not any(t.start < m.end and m.start < t.end for t in tags)
        ]
        found.extend(tags)
        found.extend(mentions)
    return sorted(found, key=lambda e: e.start)


def hashtags(text: str) -> list[str]:
    """Distinct tags of a text (by key), each in the form it was first written, no sign."""
    seen: dict[str, str] = {}
    for entity in entities(text):
        if entity.kind == "hashtag":
            seen.setdefault(tag_key(entity.name), display_form(entity.name))
    return list(seen.values())


def mentions(text: str) -> list[tuple[str, str | None]]:
    """Distinct ``(username, host or None)`` pairs a text mentions, in order, lower-cased."""
    seen: dict[tuple[str, str | None], None] = {}
    for entity in entities(text):
        if entity.kind == "mention":
            seen.setdefault((entity.name.lower(), entity.host), None)
    return list(seen)
