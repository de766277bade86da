"""Search queries: accounts by name and handle, hashtags, and local public posts by their words.

With `db/search_index.py` (which writes the index) this is the only full-text SQL. On
SQLite the index is two FTS5 tables of folded text (`db/folding.py`) keyed by rowid = the
account's or post's id, `account_search` and `post_search` (migration 0011), and
`hashtags.name_folded`. On PostgreSQL the same two tables are plain ones (`rowid`,
`folded`) with a GIN index on `to_tsvector` of the text (migrations/postgresql/0011); the
few SQL words that differ come from `ex.dialect` (`db/dialect.py`). Callers only say
"index this", "unindex that", "find these words".
"""

from __future__ import annotations

import re

from instance.db.accounts import ACCOUNT_COLUMNS
from instance.db.dialect import SQLITE
from instance.db.executor import Executor
from instance.db.feeds import hidden_from
from instance.db.folding import fold
from instance.db.posts import WITH_AUTHOR, author_listed
from instance.db.rows import AccountRow, HashtagMatchRow, PostWithAuthorRow

# A query is cut to this many words of at most this many characters: a pasted paragraph
# must not become a thousand-term FTS query.
MAX_TERMS = 8
MAX_TERM_CHARS = 64
_WORD = re.compile(r"\w", re.UNICODE)
# Control characters split words: FTS5 ends a quoted string at a NUL, whatever follows.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terms_of(text: str) -> list[str]:
    """The folded words of a query that carry at least one letter or digit."""
    words = [w[:MAX_TERM_CHARS] for w in _CONTROL.sub(" ", fold(text)).split() if _WORD.search(w)]
    return words[:MAX_TERMS]


def match_expression(terms: list[str], *, prefix: bool) -> str:
    """The SQLite (FTS5) query of the terms (`Dialect.search_query`, kept for its tests)."""
    return SQLITE.search_query(terms, prefix=prefix)


def _blocked_either_way(author: str) -> str:
    """SQL true when the viewer `:me` blocked `author` or is blocked by them."""
    return (
        f"EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = :me AND b.target_id = {author})"
        f" OR (b.account_id = {author} AND b.target_id = :me))"
    )


async def accounts(
    ex: Executor, text: str, *, viewer_id: int | None, limit: int
) -> list[AccountRow]:
    """People (local and known remote) whose name, username or server starts words like
    the query's, best match first, local people before remote ones on a tie; never
    suspended accounts, server actors, or anyone in a block with the viewer."""
    terms = terms_of(text)
    if not terms:
        return []
    # FTS5 reads MATCH on the table's own name, so neither table is aliased; the account
    # columns are unambiguous without one (the index has only `rowid` and `folded`).
    dialect = ex.dialect
    return await ex.fetch_all(
        f"SELECT {ACCOUNT_COLUMNS} FROM account_search"
        " JOIN accounts ON accounts.id = account_search.rowid"
        f" WHERE {dialect.search_match('account_search', 'q')} AND accounts.suspended_at IS NULL"
        " AND accounts.silenced_at IS NULL"
        " AND accounts.ap_type != 'Application'"
        f" AND (:me IS NULL OR NOT {_blocked_either_way('accounts.id')})"
        f" ORDER BY {dialect.search_rank('account_search', 'q')}, accounts.local DESC,"
        " accounts.id LIMIT :limit",
        {"q": dialect.search_query(terms, prefix=True), "me": viewer_id, "limit": limit},
    )


async def hashtags(ex: Executor, text: str, *, limit: int) -> list[HashtagMatchRow]:
    """Tags whose folded name starts with the query's letters, spaces and `#` ignored
    ("viet nam" and "#Việt" both find `việtnam`), the most used first."""
    key = "".join(ch for ch in fold(text) if ch.isalnum() or ch == "_")[:MAX_TERM_CHARS]
    if not key:
        return []
    # A range on the indexed column is a prefix match that every backend runs on its index
    # (LIKE would need a collation to use one, and gives `_` a meaning).
    return await ex.fetch_all(
        "SELECT h.id, h.name_key, h.display_name, h.created_at,"
        " (SELECT COUNT(*) FROM post_hashtags ph WHERE ph.hashtag_id = h.id) AS uses"
        " FROM hashtags h WHERE h.name_folded >= :lo AND h.name_folded < :hi"
        " ORDER BY uses DESC, h.name_folded LIMIT :limit",
        {"lo": key, "hi": key + "\U0010ffff", "limit": limit},
    )


async def posts(
    ex: Executor, text: str, *, viewer_id: int | None, limit: int, max_id: int | None = None
) -> list[PostWithAuthorRow]:
    """Local public posts holding every word of the query, newest first, below `max_id`.

    The index holds only those, and the conditions are checked again here: a post made
    private, deleted, or of an account that opted out or was suspended is never listed
    even if the index lagged. Authors the viewer blocked, muted or is blocked by are left
    out, as on the timelines.
    """
    terms = terms_of(text)
    if not terms:
        return []
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.id IN (SELECT rowid FROM post_search"
        f" WHERE {ex.dialect.search_match('post_search', 'q')})"
        " AND p.local = 1 AND p.visibility = 'public' AND p.deleted_at IS NULL"
        f" AND a.indexable = 1 AND {author_listed('p.account_id')}"
        " AND (:max_id IS NULL OR p.id < :max_id)"
        f" AND (:me IS NULL OR NOT {hidden_from('p.account_id')})"
        " ORDER BY p.id DESC LIMIT :limit",
        {
            "q": ex.dialect.search_query(terms, prefix=False),
            "me": viewer_id,
            "limit": limit,
            "max_id": max_id,
        },
    )
