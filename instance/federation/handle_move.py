"""Inbox handler for Move: a remote account tells its followers it lives elsewhere now.

Mastodon's checks, in its order: the object is the signing actor itself; the target is
fetched fresh from its origin (never a stored copy, which the mover could have planted);
the target names the origin in its `alsoKnownAs` and is not suspended here. Then the move
is recorded on the origin (its profile says where it went) and its local followers follow
the target (`moves_in.py`). A repeated Move to the same target changes nothing, nor does
another within 7 days (Mastodon's processing cool-down); one failing a check is stored
with its reason and does nothing.
"""

from __future__ import annotations

from activitypub.vocab import Activity
from instance.federation.context import FederationContext
from instance.federation.remote_actors import ActorFetchFailed, HostRefused
from instance.ids import now
from instance.jobs.runner import RetryLater
from instance.relationships import AccountRow

# Mastodon ignores a further Move of an account for 7 days after one was processed.
PROCESSING_COOLDOWN = 7 * 86400


async def handle_move(ctx: FederationContext, activity: Activity, actor: AccountRow) -> str:
    if ctx.moves is None:
        return "ignored: moves are not handled here"
    origin_id = actor["ap_id"]
    if not origin_id or activity.object_id != origin_id:
        return "rejected: a Move must move its own actor"
    target_id = activity.target
    if not target_id or target_id == origin_id:
        return "rejected: a Move needs another account as its target"
    if await ctx.moves.moved_to(actor["id"]) == target_id:
        return "ignored: already moved there"
    moved_at = await ctx.moves.moved_at(actor["id"])
    if moved_at is not None and now() < moved_at + PROCESSING_COOLDOWN:
        # As Mastodon: an account that just moved cannot drag its followers on at once.
        return "ignored: the account moved less than 7 days ago"
    local = ctx.urls.parse_actor(target_id)
    if local is not None:
        target = await ctx.relationships.local_account(local)
        if target is None:
            return "rejected: no such target account"
        aliases = await ctx.moves.also_known_as(target)
    else:
        try:
            target, document = await ctx.actors.fetch_fresh(target_id)
        except ActorFetchFailed as exc:
            if isinstance(exc.__cause__, HostRefused):
                return "rejected: the target's server is blocked here"
            # The new server may be briefly down: the move is worth a retry.
            raise RetryLater(f"move target unavailable: {exc}") from exc
        aliases = document.also_known_as
    if target["suspended_at"] is not None or target["deleted_at"] is not None:
        return "rejected: the target account is suspended"
    if origin_id not in aliases:
        return "rejected: the target does not name the origin in alsoKnownAs"
    # The id the target's own document gives (it may differ from the one sent, on its host).
    await ctx.moves.accept(actor, target, target["ap_id"] or target_id)
    return "move accepted"
