"""Queries on `keypairs`: each local actor's RSA key; remote public keys later."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import KeyPairRow, RemoteKeyRow


async def insert_keypair(
    ex: Executor,
    *,
    keypair_id: int,
    account_id: int,
    key_id: str,
    public_pem: str,
    private_pem: str | None,
    now: int,
) -> None:
    await ex.execute(
        "INSERT INTO keypairs (id, account_id, key_id, public_pem, private_pem, created_at) "
        "VALUES (:id, :aid, :kid, :pub, :priv, :now)",
        {
            "id": keypair_id,
            "aid": account_id,
            "kid": key_id,
            "pub": public_pem,
            "priv": private_pem,
            "now": now,
        },
    )


async def get_for_account(ex: Executor, account_id: int) -> KeyPairRow | None:
    return await ex.fetch_one(
        "SELECT id, account_id, key_id, public_pem, private_pem, created_at FROM keypairs "
        "WHERE account_id = :aid ORDER BY id DESC LIMIT 1",
        {"aid": account_id},
    )


async def upsert_public_key(
    ex: Executor, *, keypair_id: int, account_id: int, key_id: str, public_pem: str, now: int
) -> None:
    """Store a remote actor's public key; a key id keeps its owner, only its PEM may rotate."""
    await ex.execute(
        "INSERT INTO keypairs (id, account_id, key_id, public_pem, private_pem, created_at)"
        " VALUES (:id, :aid, :kid, :pub, NULL, :now) ON CONFLICT (key_id) DO UPDATE SET"
        " public_pem = excluded.public_pem WHERE keypairs.account_id = excluded.account_id",
        {"id": keypair_id, "aid": account_id, "kid": key_id, "pub": public_pem, "now": now},
    )


async def get_by_key_id(ex: Executor, key_id: str) -> RemoteKeyRow | None:
    return await ex.fetch_one(
        "SELECT k.key_id, k.public_pem, k.account_id, a.ap_id AS owner_ap_id FROM keypairs k"
        " JOIN accounts a ON a.id = k.account_id WHERE k.key_id = :kid AND a.local = 0",
        {"kid": key_id},
    )
