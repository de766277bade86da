"""What the search index stores for a post and for an account: folded text, one string.

Shared by the index writers (`db/search.py`) and the migration that filled the index, so
both store the same thing. The text is stored as its words, one space apart: rows written
before that (punctuation and newlines kept) hold the same FTS5 words, so SQLite's index
needed no rebuild; PostgreSQL's parser needs the words cut the same way.
"""

from __future__ import annotations

from instance.db.dialect import WORD
from instance.db.folding import fold


def words(text: str) -> str:
    """The folded text as its words, one space between them: how FTS5's unicode61 cuts it,
    so PostgreSQL's parser (which would keep `a.b` or `x@y` whole) finds the same words."""
    return " ".join(WORD.findall(fold(text)))


def post_text(content_source: str | None, summary: str | None) -> str:
    """A local post as it is searched: its content warning and the text its author wrote."""
    return words(f"{summary or ''}\n{content_source or ''}")


def account_text(display_name: str | None, username: str, domain: str | None) -> str:
    """An account as it is searched: its display name, its username and its server."""
    return words(f"{display_name or ''} {username} {domain or ''}")
