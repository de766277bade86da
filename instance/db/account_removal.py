"""Queries that remove an account's rows: a deleted local account, or a remote actor that
deleted itself. Each is idempotent (a retried job after a crash runs it again safely) and
keeps the counters of other people's posts right (likes, shares, replies).

The `accounts` row itself is never deleted here: it stays as a tombstone (username and
actor id), see `tombstone`.
"""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import InboxesRow


async def mark_deleting(ex: Executor, account_id: int, now: int) -> bool:
    """Hide the account at once (also as suspended, which every reader already checks);
    False when it was already being deleted."""
    changed = await ex.execute(
        "UPDATE accounts SET deleted_at = :now, suspended_at = COALESCE(suspended_at, :now)"
        " WHERE id = :id AND deleted_at IS NULL",
        {"id": account_id, "now": now},
    )
    return changed > 0


async def delete_user_sessions(ex: Executor, account_id: int) -> None:
    await ex.execute(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE account_id = :a)",
        {"a": account_id},
    )


async def unindex_account(ex: Executor, account_id: int) -> None:
    """The account's name and posts leave search at once."""
    await ex.execute("DELETE FROM account_search WHERE rowid = :a", {"a": account_id})
    await ex.execute(
        "DELETE FROM post_search WHERE rowid IN (SELECT id FROM posts WHERE account_id = :a)",
        {"a": account_id},
    )


async def hide_posts(ex: Executor, account_id: int, now: int) -> None:
    """Every post of the account deleted at once (content blanked, as a deleted post is),
    and the reply counts of the posts they answered lowered accordingly."""
    params = {"a": account_id, "now": now}
    await ex.execute(
        "UPDATE posts SET replies_count = "
        + ex.dialect.greatest(
            "replies_count - (SELECT COUNT(*) FROM posts r WHERE r.in_reply_to_id = posts.id"
            " AND r.account_id = :a AND r.deleted_at IS NULL)",
            "0",
        )
        + " WHERE id IN (SELECT in_reply_to_id FROM posts WHERE account_id = :a"
        " AND deleted_at IS NULL)",
        params,
    )
    await ex.execute(
        "UPDATE posts SET deleted_at = :now, content_html = '', content_source = '',"
        " summary = '', ap_json = NULL WHERE account_id = :a AND deleted_at IS NULL",
        params,
    )


async def post_ids(ex: Executor, account_id: int, limit: int) -> list[int]:
    rows = await ex.fetch_all(
        "SELECT id FROM posts WHERE account_id = :a ORDER BY id LIMIT :n",
        {"a": account_id, "n": limit},
    )
    return [int(r["id"]) for r in rows]


async def file_keys(ex: Executor, account_id: int) -> list[str]:
    """Every stored file of the account's media rows (processed, thumbnail, pending source)."""
    rows = await ex.fetch_all(
        "SELECT file_key, thumb_key, source_key FROM media WHERE account_id = :a",
        {"a": account_id},
    )
    return [
        str(key)
        for row in rows
        for key in (row["file_key"], row["thumb_key"], row["source_key"])
        if key
    ]


async def delete_posts(ex: Executor, ids: list[int]) -> None:
    """Remove (hidden) posts for good, with what hangs on them (cascades: recipients, edits,
    likes, shares, tags, media rows, notifications) and their search entries."""
    for post_id in ids:
        await ex.execute("DELETE FROM post_search WHERE rowid = :id", {"id": post_id})
        await ex.execute("DELETE FROM posts WHERE id = :id", {"id": post_id})


async def delete_reactions(ex: Executor, account_id: int) -> None:
    """The account's likes and shares of other posts go, and those posts' counts drop."""
    for table, column in (("likes", "likes_count"), ("shares", "shares_count")):
        await ex.execute(
            f"UPDATE posts SET {column} = {ex.dialect.greatest(f'{column} - 1', '0')}"
            f" WHERE id IN (SELECT post_id FROM {table} WHERE account_id = :a)",
            {"a": account_id},
        )
        await ex.execute(f"DELETE FROM {table} WHERE account_id = :a", {"a": account_id})


async def delete_notifications_from(ex: Executor, account_id: int) -> None:
    await ex.execute("DELETE FROM notifications WHERE from_account_id = :a", {"a": account_id})


async def delete_relations(ex: Executor, account_id: int) -> None:
    """Follows, blocks and mutes either way, notifications to and from the account, its
    place among other posts' recipients, its media rows, its name in search and its aliases."""
    params = {"a": account_id}
    await ex.execute("DELETE FROM follows WHERE follower_id = :a OR followee_id = :a", params)
    await ex.execute("DELETE FROM blocks WHERE account_id = :a OR target_id = :a", params)
    await ex.execute("DELETE FROM mutes WHERE account_id = :a OR target_id = :a", params)
    await ex.execute(
        "DELETE FROM notifications WHERE account_id = :a OR from_account_id = :a", params
    )
    await ex.execute("DELETE FROM post_recipients WHERE account_id = :a", params)
    await ex.execute("DELETE FROM media WHERE account_id = :a", params)
    await ex.execute("DELETE FROM account_search WHERE rowid = :a", params)
    await ex.execute("DELETE FROM account_moves WHERE account_id = :a", params)


async def delete_user(ex: Executor, account_id: int) -> None:
    """The login side: email, password hash and (by cascade) every session."""
    await ex.execute("DELETE FROM users WHERE account_id = :a", {"a": account_id})


async def delete_keys(ex: Executor, account_id: int) -> None:
    await ex.execute("DELETE FROM keypairs WHERE account_id = :a", {"a": account_id})


async def tombstone(ex: Executor, account_id: int) -> None:
    """What remains of the row: the username (reserved), the actor id and `deleted_at`."""
    await ex.execute(
        "UPDATE accounts SET display_name = '', note_source = '', note_html = '',"
        " fields_json = '[]', avatar_url = NULL, header_url = NULL, ap_json = NULL,"
        " discoverable = 0, indexable = 0 WHERE id = :a",
        {"a": account_id},
    )


async def cancel_pending_sends(ex: Executor, signer_id: int) -> int:
    """Queued fan-outs and deliveries the account signs (posts it made just before), which
    the Delete of the actor supersedes: sent after it, a Create would outlive the account."""
    signer = int(signer_id)
    return await ex.execute(
        "DELETE FROM jobs WHERE state = 'queued' AND ((kind = 'deliver' AND payload LIKE :tail)"
        " OR (kind = 'fanout' AND payload LIKE :inner))",
        {"tail": f'%"signer":{signer}}}', "inner": f'%"signer":{signer},%'},
    )


async def pending_deliveries(ex: Executor, signer_id: int) -> int:
    """Deliveries still to be sent with the account's key (queued or running). A delivery's
    payload ends with its signer (`instance/outbound/outbox.py`)."""
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'deliver'"
            " AND state IN ('queued', 'running') AND payload LIKE :tail",
            {"tail": f'%"signer":{int(signer_id)}}}'},
        )
    )


async def delete_recipients(ex: Executor, account_id: int) -> list[InboxesRow]:
    """Where an account's Delete goes: every known shared inbox (each server once), and the
    inboxes of remote accounts it had dealings with (follows either way, mentions, replies,
    likes and shares either way), for servers without a shared inbox."""
    related = (
        "SELECT followee_id AS id FROM follows WHERE follower_id = :a"
        " UNION SELECT follower_id FROM follows WHERE followee_id = :a"
        " UNION SELECT pr.account_id FROM post_recipients pr JOIN posts p ON p.id = pr.post_id"
        " WHERE p.account_id = :a"
        " UNION SELECT r.account_id FROM posts r JOIN posts p ON p.id = r.in_reply_to_id"
        " WHERE p.account_id = :a"
        " UNION SELECT p.account_id FROM posts r JOIN posts p ON p.id = r.in_reply_to_id"
        " WHERE r.account_id = :a"
        " UNION SELECT l.account_id FROM likes l JOIN posts p ON p.id = l.post_id"
        " WHERE p.account_id = :a"
        " UNION SELECT s.account_id FROM shares s JOIN posts p ON p.id = s.post_id"
        " WHERE p.account_id = :a"
        " UNION SELECT p.account_id FROM likes l JOIN posts p ON p.id = l.post_id"
        " WHERE l.account_id = :a"
        " UNION SELECT p.account_id FROM shares s JOIN posts p ON p.id = s.post_id"
        " WHERE s.account_id = :a"
    )
    return await ex.fetch_all(
        "SELECT DISTINCT NULL AS ap_inbox, ap_shared_inbox FROM accounts"
        " WHERE local = 0 AND ap_shared_inbox IS NOT NULL"
        " UNION SELECT ap_inbox, ap_shared_inbox FROM accounts"
        f" WHERE local = 0 AND id IN ({related})",
        {"a": account_id},
    )
