"""What the search index stores for a post and for an account: folded text, one string.

Shared by the index writers (`db/search.py`) and the migration that filled the index, so
both store the same thing.
"""

from __future__ import annotations

from instance.db.folding import fold


def post_text(content_source: str | None, summary: str | None) -> str:
    """A local post as it is searched: its content warning and the text its author wrote."""
    return fold(f"{summary or ''}\n{content_source or ''}")


def account_text(display_name: str | None, username: str, domain: str | None) -> str:
    """An account as it is searched: its display name, its username and its server."""
    return fold(f"{display_name or ''} {username} {domain or ''}")
