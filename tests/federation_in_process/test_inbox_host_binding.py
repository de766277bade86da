"""Signed inbox POSTs are bound to this server: one signed for another host never replays here.

Real signatures over the Quart test client; the signer's key is fetched from a loopback peer.
"""

from __future__ import annotations

import base64
import json
import time
from email.utils import formatdate

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub import signatures_cavage as cavage
from activitypub.digest import body_digest
from activitypub.signatures import sign_cavage, sign_rfc9421
from tests.federation_in_process.test_inbox_http import follow, post, refused
from tests.helpers.fake_peer import (
    AP,
    LOCAL_BASE,
    LOCAL_HOST,
    FakePeer,
    count,
    local_user,
    rsa_pems,
)
from tests.helpers.web import AppFactory


def signed_for(
    peer: FakePeer, url: str, host: str, *, scheme: str = "cavage", n: int = 1
) -> tuple[dict[str, str], bytes]:
    """A Follow of alice signed by the peer for a POST to `url` with this Host header."""
    body = json.dumps(follow(peer, n)).encode()
    sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
    headers = sign(
        "POST",
        url,
        {"Content-Type": AP, "Host": host},
        body,
        key_id=peer.key_id("remote"),
        private_key_pem=rsa_pems()[0],
    )
    return headers, body


async def test_delivery_signed_for_another_server_is_401(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A Follow signed for `other.example/inbox` (same path, valid for an hour there) and
    replayed to this server with its own Host header is refused; nothing is stored."""
    await local_user(app, "alice")
    headers, body = signed_for(peer, "http://other.example/inbox", "other.example")
    reason = await refused(app, client, headers, body, 401)
    assert reason == "request is not addressed to this server"


async def test_replay_with_our_host_header_does_not_verify(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The same captured request with its Host rewritten to ours: the signature covered the
    other host, so it fails (401), for cavage and RFC 9421 alike."""
    await local_user(app, "alice")
    for scheme in ("cavage", "rfc9421"):
        headers, body = signed_for(
            peer, "http://other.example/inbox", "other.example", scheme=scheme
        )
        headers["Host"] = LOCAL_HOST
        await refused(app, client, headers, body, 401)


def signed_without_host(peer: FakePeer) -> tuple[dict[str, str], bytes]:
    """A cavage-signed Follow covering `(request-target) date digest` only (no `host`)."""
    body = json.dumps(follow(peer, 2)).encode()
    headers = {
        "Content-Type": AP,
        "Host": LOCAL_HOST,
        "Date": formatdate(time.time(), usegmt=True),
        "Digest": body_digest(body),
    }
    covered = ["(request-target)", "date", "digest"]
    lower = {k.lower(): v for k, v in headers.items()}
    text = cavage.signing_string(covered, "post /inbox", lower, {})
    key = serialization.load_pem_private_key(rsa_pems()[0].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    raw = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = cavage.format_signature(
        peer.key_id("remote"), "rsa-sha256", covered, base64.b64encode(raw).decode()
    )
    return headers, body


async def test_cavage_signature_without_host_is_401(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A cavage signature that leaves `host` out would verify on any server: refused."""
    await local_user(app, "alice")
    headers, body = signed_without_host(peer)
    reason = await refused(app, client, headers, body, 401)
    assert reason == "signature must cover host"


async def test_alternate_host_is_accepted(make_app: AppFactory, peer: FakePeer) -> None:
    """With GAPO_ALTERNATE_HOSTS set, a request signed for that host verifies (cavage and
    RFC 9421, which signs the whole URL); another host still does not."""
    app = await make_app(
        base_url=LOCAL_BASE, allow_private_addresses=True, alternate_hosts="gapo-mirror.onion"
    )
    client = app.test_client()
    await local_user(app, "alice")
    for n, scheme in enumerate(("cavage", "rfc9421"), start=1):
        headers, body = signed_for(
            peer, "http://gapo-mirror.onion/inbox", "gapo-mirror.onion", scheme=scheme, n=n
        )
        code, answer = await post(client, "/inbox", headers, body)
        assert code == 202, answer
    assert await count(app, "inbox_activities") == 2
    headers, body = signed_for(peer, "http://other.example/inbox", "other.example", n=3)
    code, answer = await post(client, "/inbox", headers, body)
    assert code == 401 and answer["error"] == "request is not addressed to this server"
    assert await count(app, "inbox_activities") == 2
