"""Body digests: the draft-cavage `Digest` header and RFC 9530 `Content-Digest`.

Pure functions over bytes and header strings. Checking returns a reason string
instead of raising, so that `signatures` decides which error a mismatch becomes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from activitypub import signatures_rfc9421 as sf

# Only SHA-2 digests count: MD5/SHA-1 would let a forger pick a colliding body.
_HASHES = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def body_digest(body: bytes) -> str:
    """The `Digest` header value for `body`: `SHA-256=<base64>` (RFC 3230 spelling)."""
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` header value for `body`: `sha-256=:<base64>:`."""
    return "sha-256=:" + _b64(hashlib.sha256(body).digest()) + ":"


def _matches(algorithm: str, expected: bytes, body: bytes) -> bool:
    return hmac.compare_digest(_HASHES[algorithm](body).digest(), expected)


def check_digest_header(value: str, body: bytes) -> str | None:
    """Check a `Digest` header against `body`; None when it matches, else the reason.

    The header may list several `alg=value` pairs; every SHA-2 one offered must
    match and at least one must be offered.
    """
    offered: list[tuple[str, bytes]] = []
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            return "malformed Digest header"
        algorithm = name.strip().lower()
        if algorithm not in _HASHES:
            continue
        try:
            offered.append((algorithm, base64.b64decode(encoded.strip(), validate=True)))
        except ValueError:
            return "malformed Digest header"
    if not offered:
        return "Digest header offers no SHA-256 or SHA-512 digest"
    for algorithm, expected in offered:
        if not _matches(algorithm, expected, body):
            return "Digest header does not match the body"
    return None


def check_content_digest(value: str, body: bytes) -> str | None:
    """Check an RFC 9530 `Content-Digest` header; None when it matches, else the reason."""
    try:
        members = sf.parse_dictionary(value)
    except ValueError:
        return "malformed Content-Digest header"
    offered: list[tuple[str, bytes]] = []
    for name, (member, _params) in members.items():
        if name not in _HASHES:
            continue
        if not isinstance(member, bytes):
            return "malformed Content-Digest header"
        offered.append((name, member))
    if not offered:
        return "Content-Digest header offers no sha-256 or sha-512 digest"
    for algorithm, expected in offered:
        if not _matches(algorithm, expected, body):
            return "Content-Digest header does not match the body"
    return None
