"""Outgoing Update(Person): followers elsewhere refresh a profile after it changes.

Enqueued in the caller's transaction, the one that writes the profile, so a saved profile
is never left without its Update (nor an Update sent for a profile that was not saved).
"""

from __future__ import annotations

from activitypub.vocab import PUBLIC
from instance.db import account_moves as moves_q
from instance.db import accounts as accounts_q
from instance.db import keys as keys_q
from instance.db.executor import Executor
from instance.ids import IdGenerator
from instance.outbound import to_ap
from instance.outbound.fanout import FanOut
from instance.urls import LocalUrls


class ProfileFederation:
    def __init__(self, ids: IdGenerator, fanout: FanOut, urls: LocalUrls) -> None:
        self.ids = ids
        self.fanout = fanout
        self.urls = urls

    async def enqueue_update(self, ex: Executor, account_id: int) -> None:
        """The fan-out job of the account's Update(Person), in `ex`'s transaction (which
        sees the profile as just written); it expands into one delivery per follower inbox.
        An account that does not federate (remote, or without a key) enqueues nothing."""
        account = await accounts_q.get_by_id(ex, account_id)
        key = await keys_q.get_for_account(ex, account_id)
        if account is None or key is None or not account["local"]:
            return
        moves = await moves_q.get(ex, account_id)
        person = to_ap.person(self.urls, account, key["public_pem"], moves)
        context = person.pop("@context")
        actor = self.urls.actor(account["username"])
        activity = to_ap.activity(
            "Update",
            self.urls.activity(account["username"], "updates", self.ids.next_id()),
            actor,
            person,
            to=[PUBLIC],
            cc=[self.urls.followers(account["username"])],
            context=context,
        )
        await self.fanout.to_followers(ex, account_id=account_id, activity=activity)
