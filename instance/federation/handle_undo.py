"""The inbox handler for Undo: one undoer per kind of activity that can be taken back.

Each undoer answers None when the inner activity is not one it knows, so an Undo whose
object is a bare id (no type) is offered to each in turn, follows first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from activitypub.vocab import ACTIVITY_TYPES, Activity, id_of, primary_type
from instance.federation.context import FederationContext
from instance.federation.handle_blocks import undo_block
from instance.federation.handle_follows import undo_follow
from instance.federation.handle_reactions import undo_reaction
from instance.relationships import AccountRow as Row

Undoer = Callable[[FederationContext, Any, "str | None", Row], Awaitable["str | None"]]
UNDOERS: dict[str, Undoer] = {
    "Follow": undo_follow,
    "Like": undo_reaction,
    "EmojiReact": undo_reaction,
    "Announce": undo_reaction,
    "Block": undo_block,
}


async def handle_undo(ctx: FederationContext, activity: Activity, actor: Row) -> str:
    inner = activity.object
    inner_type = primary_type(inner, ACTIVITY_TYPES) if isinstance(inner, dict) else None
    if isinstance(inner, dict) and id_of(inner.get("actor")) not in (None, actor["ap_id"]):
        return "rejected: undo of another actor's activity"
    if inner_type is not None and inner_type in UNDOERS:
        candidates = [UNDOERS[inner_type]]
        # An Undo typed as a reaction may still name a follow we hold by its id.
        if UNDOERS[inner_type] is not undo_follow:
            candidates.insert(0, undo_follow)
    elif inner_type is None:
        candidates = list(dict.fromkeys(UNDOERS.values()))
    else:
        return "ignored: nothing to undo"
    for undo in candidates:
        outcome = await undo(ctx, inner, inner_type, actor)
        if outcome is not None:
            return outcome
    return "ignored: nothing to undo"
