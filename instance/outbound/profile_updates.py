"""Outgoing Update(Person): followers elsewhere refresh a profile after it changes."""

from __future__ import annotations

from activitypub.vocab import PUBLIC
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import keys as keys_q
from instance.ids import IdGenerator
from instance.outbound import to_ap
from instance.outbound.outbox import Outbox
from instance.urls import LocalUrls


class ProfileFederation:
    def __init__(self, db: Database, ids: IdGenerator, outbox: Outbox, urls: LocalUrls) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.urls = urls

    async def announce_update(self, account_id: int) -> int:
        account = await accounts_q.get_by_id(self.db, account_id)
        key = await keys_q.get_for_account(self.db, account_id)
        if account is None or key is None or not account["local"]:
            return 0
        person = to_ap.person(self.urls, account, key["public_pem"])
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
        async with self.db.transaction() as tx:
            return await self.outbox.to_followers(tx, account_id=account_id, activity=activity)
