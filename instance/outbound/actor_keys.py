"""Local actors' RSA key pairs, made on first use rather than at sign-up.

An RSA-2048 key takes about 45 ms of CPU (with a tail past 100 ms), more than the argon2id
hash of the sign-up itself (20 ms); made at sign-up it held a surge to ~20 sign-ups a
second on two cores (docs/overload.md). A key is needed only once the account federates:
to serve its actor document (where another server learns the public key) and to sign a
delivery. Every such path asks `ActorKeys.for_account`, which returns the stored key or
makes, stores and returns one. So a key exists exactly when something needs it, and an
account nobody elsewhere has looked at costs no key at all.

Why not a pool of keys made ahead in idle time: a surge empties any such pool within
seconds (a pool of 600 keys is 27 s of CPU to fill, gone in half a minute of sign-ups),
after which sign-ups would need this same on-demand path anyway; filling it competes with
hashing for the same cores; and its rows would need a table and a claim step across
workers. First use spreads the cost over the days in which new accounts begin to federate.

The paths that federate ask first: the actor document, each delivery (its signature), and a
profile save before the transaction that enqueues its Update(Person), which carries the key.
"""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import keys as keys_q
from instance.db.rows import KeyPairRow
from instance.ids import IdGenerator, now
from instance.pools import BoundedPool
from instance.urls import LocalUrls


def generate_rsa_pem() -> tuple[str, str]:
    """(private PEM, public PEM) of a new RSA-2048 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


class ActorKeys:
    """The key pair of each local actor, made on the key pool the first time it is asked for."""

    def __init__(self, db: Database, ids: IdGenerator, urls: LocalUrls, pool: BoundedPool) -> None:
        self.db = db
        self.ids = ids
        self.urls = urls
        self.pool = pool
        # One key being made per account in this process: a popular new account whose actor
        # many servers fetch at once costs one key, not one per request.
        self._making: dict[int, asyncio.Task[KeyPairRow | None]] = {}

    async def for_account(self, account_id: int) -> KeyPairRow | None:
        """The account's newest key; made now for a local account that has none.

        None for an account that does not exist. A remote account's row has no private half
        and is returned as stored (None when none is stored). Raises `Overloaded` (503 +
        Retry-After) when the key pool is full; no row is written then.
        """
        key = await keys_q.get_for_account(self.db, account_id)
        if key is not None:
            return key
        task = self._making.get(account_id)
        if task is None:
            task = asyncio.create_task(self._make(account_id))
            self._making[account_id] = task
            task.add_done_callback(lambda _t: self._making.pop(account_id, None))
        # Shielded: one caller giving up (a client that disconnects) does not stop the key
        # the others are waiting for.
        return await asyncio.shield(task)

    async def _make(self, account_id: int) -> KeyPairRow | None:
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None or not account["local"] or account["deleted_at"] is not None:
            return None  # a deleted account never gets a key it did not have
        private_pem, public_pem = await self.pool.run(generate_rsa_pem)
        async with self.db.transaction() as tx:
            # Under the write lock: another worker process may have made one meanwhile, and
            # an account keeps the first key it published.
            if await keys_q.get_for_account(tx, account_id) is None:
                await keys_q.insert_keypair(
                    tx,
                    keypair_id=self.ids.next_id(),
                    account_id=account_id,
                    key_id=self.urls.key_id(account["username"]),
                    public_pem=public_pem,
                    private_pem=private_pem,
                    now=now(),
                )
        return await keys_q.get_for_account(self.db, account_id)
