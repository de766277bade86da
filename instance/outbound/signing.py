"""Signing outgoing requests with a local actor's key, on a thread so the loop stays free."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from activitypub.signatures import sign_cavage, sign_rfc9421

SCHEMES = ("cavage", "rfc9421")


def other_scheme(scheme: str) -> str:
    return "rfc9421" if scheme == "cavage" else "cavage"


async def sign_request(
    scheme: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_pem: str,
) -> dict[str, str]:
    signer = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
    return await asyncio.to_thread(
        signer, method, url, dict(headers), body, key_id=key_id, private_key_pem=private_pem
    )


class KeySigner:
    """A `SignFn` for the fetcher: signs each request (and each redirect hop) with one key."""

    def __init__(self, key_id: str, private_pem: str, scheme: str = "cavage") -> None:
        self.key_id = key_id
        self.private_pem = private_pem
        self.scheme = scheme

    async def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        return await sign_request(
            self.scheme,
            method,
            url,
            headers,
            body,
            key_id=self.key_id,
            private_pem=self.private_pem,
        )
