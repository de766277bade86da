"""RSA-2048 key pairs for local actors, generated on a pool off the event loop."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from instance.pools import BoundedPool, Slot


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


async def generate_keypair(pool: BoundedPool, slot: Slot | None = None) -> tuple[str, str]:
    """A new RSA key pair (private, public PEM), on `slot` when a place is already held."""
    if slot is not None:
        return await slot.run(generate_rsa_pem)
    return await pool.run(generate_rsa_pem)
