"""What a new person's empty home suggests: people here to follow, and finishing the profile.

People who posted most in the last weeks come first (they make a home feed come alive),
then those who joined last (newcomers like the reader); nobody the reader already follows,
blocked or muted (`db/suggestions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instance.accounts.views import AccountView
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import suggestions as suggestions_q
from instance.ids import first_id_at, now

SUGGESTIONS = 6
ACTIVE_DAYS = 14


@dataclass(frozen=True)
class Welcome:
    """The getting-started panel of an empty home."""

    suggestions: list[AccountView] = field(default_factory=list)
    # No avatar or no bio yet: the panel asks for them (people follow faces and words).
    complete_profile: bool = False


class Suggestions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def accounts(self, account_id: int, *, limit: int = SUGGESTIONS) -> list[AccountView]:
        """Up to `limit` local people to follow: the most active first, then newcomers."""
        since_id = first_id_at(now() - ACTIVE_DAYS * 86400)
        active = await suggestions_q.most_active(
            self.db, account_id, since_id=since_id, limit=limit
        )
        recent = await suggestions_q.recently_joined(self.db, account_id, limit=limit)
        chosen = {int(row["id"]): row for row in [*active, *recent]}
        return [AccountView.of_account(row) for row in list(chosen.values())[:limit]]

    async def follows_anyone(self, account_id: int) -> bool:
        return await suggestions_q.follows_anyone(self.db, account_id)

    async def welcome(self, account_id: int) -> Welcome:
        account = await accounts_q.get_by_id(self.db, account_id)
        incomplete = account is not None and not (
            account["avatar_url"] and account["note_source"].strip()
        )
        return Welcome(suggestions=await self.accounts(account_id), complete_profile=incomplete)
