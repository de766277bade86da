"""RSA-2048 key pairs made on a pool off the event loop (the instance actor's, at start-up).

A local person's key is made on first use by instance/outbound/actor_keys.py, not here.
"""

from __future__ import annotations

from instance.outbound.actor_keys import generate_rsa_pem
from instance.pools import BoundedPool, Slot

__all__ = ["generate_keypair", "generate_rsa_pem"]


async def generate_keypair(pool: BoundedPool, slot: Slot | None = None) -> tuple[str, str]:
    """A new RSA key pair (private, public PEM), on `slot` when a place is already held."""
    if slot is not None:
        return await slot.run(generate_rsa_pem)
    return await pool.run(generate_rsa_pem)
