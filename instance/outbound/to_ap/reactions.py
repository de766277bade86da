"""to_ap for likes and shares: Like, Announce and the Undo of either."""

from __future__ import annotations

from typing import Any

from activitypub.vocab import PUBLIC
from instance.outbound.to_ap import activity

AP_TYPES = {"likes": "Like", "shares": "Announce"}


def reaction(
    kind: str, ap_id: str, actor: str, object_id: str, *, published: int
) -> dict[str, Any]:
    """A Like (addressed by its delivery only), as Mastodon sends one."""
    # Mastodon and GoToSocial send `published` on an Announce; some peers want it.
    return activity(AP_TYPES[kind], ap_id, actor, object_id, published=published)


def announce_addressing(
    visibility: str, *, author_id: str, followers: str
) -> tuple[list[str], list[str]]:
    """`to` and `cc` of a share: it keeps the post's reach (an unlisted post is shared
    unlisted)."""
    if visibility == "unlisted":
        return [followers], [PUBLIC, author_id]
    return [PUBLIC], [author_id, followers]


def share(
    ap_id: str, actor: str, object_id: str, *, published: int, to: list[str], cc: list[str]
) -> dict[str, Any]:
    return activity("Announce", ap_id, actor, object_id, to=to, cc=cc, published=published)


def undo(
    undo_id: str,
    kind: str,
    original_id: str,
    actor: str,
    object_id: str,
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
) -> dict[str, Any]:
    """Undo of a like or share; the original is embedded so peers need not have kept it."""
    original = {"id": original_id, "type": AP_TYPES[kind], "actor": actor, "object": object_id}
    return activity("Undo", undo_id, actor, original, to=to, cc=cc)
