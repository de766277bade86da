"""A post's hashtags, stored by key (local and remote posts alike).

Their links and `Hashtag` tags are built in `outbound/to_ap/notes.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

from activitypub.entities import display_form, is_valid_tag, tag_key
from instance.db import hashtags as hashtags_q
from instance.db.executor import Executor
from instance.ids import IdGenerator

# A hostile note may carry thousands of Hashtag tags; a person writes a handful.
MAX_TAGS_PER_POST = 30


def valid_names(names: Iterable[str]) -> list[str]:
    """Tag names (signs stripped) that are real tags, distinct by key, first form kept."""
    seen: dict[str, str] = {}
    for raw in names:
        name = display_form(raw.strip())
        if is_valid_tag(name):
            seen.setdefault(tag_key(name), name)
        if len(seen) >= MAX_TAGS_PER_POST:
            break
    return list(seen.values())


async def store_post_tags(
    ex: Executor, ids: IdGenerator, post_id: int, names: Iterable[str], now: int
) -> None:
    """Inside the caller's transaction: the post carries exactly these tags afterwards."""
    hashtag_ids = [
        await hashtags_q.ensure(
            ex, new_id=ids.next_id(), name_key=tag_key(name), display_name=name, now=now
        )
        for name in valid_names(names)
    ]
    await hashtags_q.replace_for_post(ex, post_id, hashtag_ids)
