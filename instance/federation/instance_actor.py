"""The instance actor (type Application): it signs our outgoing GETs for authorized-fetch peers."""

from __future__ import annotations

from instance.accounts.keys import generate_keypair
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import keys as keys_q
from instance.db.connection import Row
from instance.ids import IdGenerator, now
from instance.pools import BoundedPool
from instance.urls import INSTANCE_ACTOR_USERNAME, LocalUrls


async def ensure_instance_actor(
    db: Database, ids: IdGenerator, urls: LocalUrls, key_pool: BoundedPool
) -> tuple[Row, Row]:
    """(account, key) of the instance actor, created on first start."""
    account = await accounts_q.get_local_by_username(db, INSTANCE_ACTOR_USERNAME)
    if account is None:
        private_pem, public_pem = await generate_keypair(key_pool)
        ts = now()
        account_id = ids.next_id()
        async with db.transaction() as tx:
            # Several workers may start at once: the first one creates it.
            if await accounts_q.get_local_by_username(tx, INSTANCE_ACTOR_USERNAME) is None:
                await accounts_q.insert_account(
                    tx,
                    {
                        "id": account_id,
                        "local": 1,
                        "username": INSTANCE_ACTOR_USERNAME,
                        "username_key": INSTANCE_ACTOR_USERNAME,
                        "domain": "",
                        "display_name": "instance",
                        "created_at": ts,
                        "updated_at": ts,
                        "ap_type": "Application",
                        "locked": 1,
                        "discoverable": 0,
                    },
                )
                await keys_q.insert_keypair(
                    tx,
                    keypair_id=ids.next_id(),
                    account_id=account_id,
                    key_id=urls.instance_key_id,
                    public_pem=public_pem,
                    private_pem=private_pem,
                    now=ts,
                )
        account = await accounts_q.get_local_by_username(db, INSTANCE_ACTOR_USERNAME)
    assert account is not None
    key = await keys_q.get_for_account(db, account["id"])
    assert key is not None
    return account, key
