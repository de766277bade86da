"""Search: an index of folded names, tags and local public posts, and the opt-out switch.

`accounts.indexable` is the profile switch "let my public posts be found in search"
(default on). `post_search` and `account_search` are SQLite FTS5 tables holding folded
text (`instance/db/folding.py`), keyed by the post's or account's id; `hashtags.name_folded`
lets "viet nam" find `#việtnam`. Folding needs Python (SQLite has no `unaccent`), so this is a
Python migration: it creates the tables and fills them from what is already stored, the
local public posts of people who have not opted out (everyone, before this release).
"""

from __future__ import annotations

from typing import Any

from yoyo import step

from instance.db.folding import fold
from instance.db.search_text import account_text, post_text

__depends__ = {"0008_remote_profile_files"}

BATCH = 1000


def _fill(cursor: Any, select: str, insert: str, make: Any) -> None:
    """Writes `make(row)` with `insert` for every row of `select`, a thousand at a time.

    `select` takes the last id seen and a batch size and starts with the id, so a large
    instance is read in pages instead of all at once; each page is read before it is
    written (one connection cannot step a SELECT while it writes).
    """
    after = -1
    while True:
        cursor.execute(select, (after, BATCH))
        rows = cursor.fetchall()
        if not rows:
            return
        cursor.executemany(insert, [make(row) for row in rows])
        after = rows[-1][0]


def backfill(conn: Any) -> None:
    cursor = conn.cursor()
    _fill(
        cursor,
        "SELECT p.id, p.content_source, p.summary FROM posts p JOIN accounts a"
        " ON a.id = p.account_id WHERE p.local = 1 AND p.visibility = 'public'"
        " AND p.deleted_at IS NULL AND a.indexable = 1 AND p.id > ? ORDER BY p.id LIMIT ?",
        "INSERT INTO post_search (rowid, folded) VALUES (?, ?)",
        lambda row: (row[0], post_text(row[1], row[2])),
    )
    _fill(
        cursor,
        "SELECT id, display_name, username, domain FROM accounts WHERE id > ? ORDER BY id LIMIT ?",
        "INSERT INTO account_search (rowid, folded) VALUES (?, ?)",
        lambda row: (row[0], account_text(row[1], row[2], row[3])),
    )
    _fill(
        cursor,
        "SELECT id, display_name FROM hashtags WHERE id > ? ORDER BY id LIMIT ?",
        "UPDATE hashtags SET name_folded = ? WHERE id = ?",
        lambda row: (fold(row[1]), row[0]),
    )


steps = [
    step(
        "ALTER TABLE accounts ADD COLUMN indexable INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE accounts DROP COLUMN indexable",
    ),
    step(
        "ALTER TABLE hashtags ADD COLUMN name_folded TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE hashtags DROP COLUMN name_folded",
    ),
    step(
        "CREATE INDEX hashtags_folded ON hashtags (name_folded)",
        "DROP INDEX hashtags_folded",
    ),
    # Words are separated by unicode61's rules; the folded text has no marks left, but
    # remove_diacritics also covers any the folding does not know.
    step(
        "CREATE VIRTUAL TABLE post_search USING fts5"
        "(folded, tokenize = 'unicode61 remove_diacritics 2')",
        "DROP TABLE post_search",
    ),
    # Names are searched as prefixes ("ngu" finds "Nguyễn"): prefix indexes keep that fast.
    step(
        "CREATE VIRTUAL TABLE account_search USING fts5"
        "(folded, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "DROP TABLE account_search",
    ),
    step(backfill),
]
