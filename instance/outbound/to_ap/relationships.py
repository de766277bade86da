"""The documents of relationships: Follow, Accept, Reject, Block, and Undo of a Follow or Block.

Each takes account rows (local or remote) and the row the activity stands for; the ids of
the documents this instance makes are built here from those rows, so a Follow sent today
and the Undo that names it next year carry the same id.
"""

from __future__ import annotations

from typing import Any

from instance.db.connection import Row
from instance.outbound.to_ap import activity, strip_context
from instance.urls import LocalUrls


def actor_id(urls: LocalUrls, account: Row) -> str:
    """The actor URL of any account: built for a local one, stored for a remote one."""
    return urls.actor(account["username"]) if account["local"] else str(account["ap_id"])


def follow_id(urls: LocalUrls, follower: Row, follow: Row) -> str:
    """The Follow's id: the one stored with it, else the one a local follower's Follow has."""
    return str(follow["ap_id"] or urls.activity(follower["username"], "follows", follow["id"]))


def follow(urls: LocalUrls, follower: Row, target: Row, follow_row: Row) -> dict[str, Any]:
    return activity(
        "Follow",
        follow_id(urls, follower, follow_row),
        actor_id(urls, follower),
        actor_id(urls, target),
    )


def undo_follow(
    urls: LocalUrls, follower: Row, target: Row, follow_row: Row, *, undo_id: int
) -> dict[str, Any]:
    return _undo(urls, follower, follow(urls, follower, target, follow_row), undo_id)


def accept(
    urls: LocalUrls, followee: Row, follower: Row, follow_ap_id: str | None, *, answer_id: int
) -> dict[str, Any]:
    """The followee's Accept of a Follow (embedded, as Mastodon expects it)."""
    return _answer(urls, "Accept", followee, follower, follow_ap_id, answer_id)


def reject(
    urls: LocalUrls, followee: Row, follower: Row, follow_ap_id: str | None, *, answer_id: int
) -> dict[str, Any]:
    """The followee's Reject: a refused request, or a follower removed."""
    return _answer(urls, "Reject", followee, follower, follow_ap_id, answer_id)


def block_id(urls: LocalUrls, blocker: Row, block_row: Row) -> str:
    return str(block_row["ap_id"] or urls.activity(blocker["username"], "blocks", block_row["id"]))


def block(urls: LocalUrls, blocker: Row, target: Row, block_row: Row) -> dict[str, Any]:
    return activity(
        "Block",
        block_id(urls, blocker, block_row),
        actor_id(urls, blocker),
        actor_id(urls, target),
    )


def undo_block(
    urls: LocalUrls, blocker: Row, target: Row, block_row: Row, *, undo_id: int
) -> dict[str, Any]:
    """Undo(Block) wrapping the original Block, so the peer can match it by id."""
    return _undo(urls, blocker, block(urls, blocker, target, block_row), undo_id)


def _undo(urls: LocalUrls, actor: Row, inner: dict[str, Any], undo_id: int) -> dict[str, Any]:
    return activity(
        "Undo",
        urls.activity(actor["username"], "undo", undo_id),
        actor_id(urls, actor),
        strip_context(inner),
    )


def _answer(
    urls: LocalUrls,
    kind: str,
    followee: Row,
    follower: Row,
    follow_ap_id: str | None,
    answer_id: int,
) -> dict[str, Any]:
    followee_actor = actor_id(urls, followee)
    inner = {
        "id": follow_ap_id,
        "type": "Follow",
        "actor": actor_id(urls, follower),
        "object": followee_actor,
    }
    return activity(
        kind,
        urls.activity(followee["username"], kind.lower(), answer_id),
        followee_actor,
        inner,
    )
