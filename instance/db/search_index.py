"""Writing the search index (`db/search.py` reads it): what is indexed, kept current by whom.

Indexed: every account's name (searches leave out suspended ones and server actors when
they read), and the local public posts of people whose `indexable` switch is on; remote
posts never. The post writer (`posts/writes.py`) keeps posts current on create, edit and
delete, the account service when the switch changes, and `db/accounts.py` keeps names
current on every insert and update of an account row. On SQLite the index is FTS5 tables
(migration 0011); a PostgreSQL backend gives these functions its own statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instance.db.executor import Executor
from instance.db.search_text import account_text, post_text


async def index_account(ex: Executor, account_id: int) -> None:
    """The account's name as it is now (after an insert or an update of its row)."""
    row = await ex.fetch_one(
        "SELECT display_name, username, domain FROM accounts WHERE id = :id", {"id": account_id}
    )
    await ex.execute("DELETE FROM account_search WHERE rowid = :id", {"id": account_id})
    if row is not None:
        await ex.execute(
            "INSERT INTO account_search (rowid, folded) VALUES (:id, :folded)",
            {
                "id": account_id,
                "folded": account_text(row["display_name"], row["username"], row["domain"]),
            },
        )


async def index_new_account(ex: Executor, values: Mapping[str, Any]) -> None:
    """A just-inserted account's name, from the values it was inserted with: one statement
    instead of reading the row back and replacing (ids are never reused, so no stale row
    can be there). Sign-ups under a surge hold the write lock for each round trip."""
    await ex.execute(
        "INSERT INTO account_search (rowid, folded) VALUES (:id, :folded)",
        {
            "id": int(values["id"]),
            "folded": account_text(
                values.get("display_name"), str(values["username"]), values.get("domain")
            ),
        },
    )


async def index_post(ex: Executor, post_id: int) -> None:
    """The post as it is now: indexed when it is local, public and undeleted and its author
    lets posts be found; removed from the index otherwise."""
    await unindex_post(ex, post_id)
    row = await ex.fetch_one(
        "SELECT p.content_source, p.summary FROM posts p JOIN accounts a ON a.id = p.account_id"
        " WHERE p.id = :id AND p.local = 1 AND p.visibility = 'public'"
        " AND p.deleted_at IS NULL AND a.indexable = 1",
        {"id": post_id},
    )
    if row is not None:
        await ex.execute(
            "INSERT INTO post_search (rowid, folded) VALUES (:id, :folded)",
            {"id": post_id, "folded": post_text(row["content_source"], row["summary"])},
        )


async def unindex_post(ex: Executor, post_id: int) -> None:
    await ex.execute("DELETE FROM post_search WHERE rowid = :id", {"id": post_id})


async def reindex_account_posts(ex: Executor, account_id: int) -> None:
    """After the switch changed: all of the account's posts leave the index, and come back
    when the switch is on."""
    await ex.execute(
        "DELETE FROM post_search WHERE rowid IN (SELECT id FROM posts WHERE account_id = :a)",
        {"a": account_id},
    )
    rows = await ex.fetch_all(
        "SELECT p.id, p.content_source, p.summary FROM posts p JOIN accounts a"
        " ON a.id = p.account_id WHERE p.account_id = :a AND p.local = 1"
        " AND p.visibility = 'public' AND p.deleted_at IS NULL AND a.indexable = 1",
        {"a": account_id},
    )
    for row in rows:
        await ex.execute(
            "INSERT INTO post_search (rowid, folded) VALUES (:id, :folded)",
            {"id": row["id"], "folded": post_text(row["content_source"], row["summary"])},
        )
