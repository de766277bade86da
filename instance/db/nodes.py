"""Claims a node number for this process's id generator."""

from __future__ import annotations

from instance.db.connection import Database

NODE_COUNT = 1024


async def claim_node(db: Database, now: int) -> int:
    async with db.transaction() as tx:
        seq = await tx.fetch_value("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM id_node_claims")
        await tx.execute(
            "INSERT INTO id_node_claims (seq, claimed_at) VALUES (:seq, :now)",
            {"seq": seq, "now": now},
        )
        # Old claims are history only; keep the table small.
        await tx.execute(
            "DELETE FROM id_node_claims WHERE seq < :floor", {"floor": seq - NODE_COUNT}
        )
    return int(seq) % NODE_COUNT
