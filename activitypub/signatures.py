"""HTTP signatures: signing outgoing requests and verifying incoming ones.

Two schemes: draft-cavage-http-signatures-12 (what the fediverse speaks, including
`hs2019`) and RFC 9421 HTTP Message Signatures (Mastodon ≥ 4.5). Verification is
split in two so the expensive part can leave the event loop:

* `parse_request_signature` — cheap, no crypto: picks the scheme, applies the
  acceptance policy (Mastodon's: what must be covered, digest, clock window) and
  builds the candidate signing strings.
* `verify_parsed` — the public-key operation; pure and blocking.

The wire formats live in `signatures_cavage`, `signatures_rfc9421` and `digest`;
this module holds the policy, the errors and the cryptography.
"""

from __future__ import annotations

import base64
import binascii
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from activitypub import signatures_cavage as cavage
from activitypub import signatures_rfc9421 as rfc9421
from activitypub.digest import (
    body_digest,
    check_content_digest,
    check_digest_header,
    content_digest,
)

__all__ = [
    "BadSignature",
    "DigestMismatch",
    "MalformedSignature",
    "MissingSignature",
    "ParsedSignature",
    "SignatureError",
    "StaleSignature",
    "UnsupportedAlgorithm",
    "body_digest",
    "parse_request_signature",
    "sign_cavage",
    "sign_rfc9421",
    "verify_parsed",
    "verify_request",
]

# Mastodon's windows: an hour of clock skew either way; a signature that states
# its own expiry may be up to 12 hours old, but never past that expiry.
CLOCK_SKEW = 3600.0
EXPIRES_WINDOW = 12 * 3600.0
# Grace for `expires` against our clock: a slightly fast clock here must not
# refuse a signature with a short lifetime that the sender considers fresh.
EXPIRY_GRACE = 300.0
# Smaller RSA keys are cheap to factor; nothing current generates them.
MIN_RSA_BITS = 1024

_CAVAGE_ALGORITHMS = {None, "rsa-sha256", "hs2019"}
_RFC9421_ALGORITHMS = {None, "rsa-v1_5-sha256", "ed25519"}
_RSA_ALGORITHMS = {None, "rsa-sha256", "hs2019", "rsa-v1_5-sha256"}
_ED25519_ALGORITHMS = {None, "hs2019", "ed25519"}


class SignatureError(Exception):
    """A request's signature is missing, malformed, stale or wrong.

    `reason` is short and safe to send back to the client.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingSignature(SignatureError):
    """No `Signature`, `Signature-Input` or `Authorization: Signature` header."""


class MalformedSignature(SignatureError):
    """The signature headers cannot be parsed, or do not cover what they must."""


class DigestMismatch(SignatureError):
    """The body digest is absent, unsupported or does not match the body."""


class StaleSignature(SignatureError):
    """The signature is too old, dated in the future, or expired."""


class BadSignature(SignatureError):
    """The signature does not verify with the key (or the key is unusable)."""


class UnsupportedAlgorithm(SignatureError):
    """The signature names an algorithm we do not accept."""


@dataclass(frozen=True)
class ParsedSignature:
    """A signature that passed the cheap checks and awaits `verify_parsed`.

    `signing_strings` holds every candidate the signer may have signed (cavage:
    request-target with and without the query string); one must verify.
    """

    scheme: Literal["cavage", "rfc9421"]
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    signing_strings: tuple[bytes, ...]
    signature: bytes
    created: float | None


# ---------------------------------------------------------------- keys


@functools.lru_cache(maxsize=256)
def _private_key(pem: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    # Loading an RSA private key runs consistency checks costing milliseconds;
    # a fan-out signs thousands of deliveries with the same few keys.
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("only RSA and Ed25519 private keys can sign")
    return key


@functools.lru_cache(maxsize=1024)
def _public_key(pem: str) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValueError("unsupported public key type")
    return key


def _sign(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- signing


def _prepare(
    url: str, headers: Mapping[str, str], now: float | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The outgoing header dict and its lower-cased view, with Host and Date filled in."""
    out = dict(headers)
    lower = {name.lower(): value for name, value in out.items()}
    if "host" not in lower:
        out["Host"] = lower["host"] = rfc9421.authority(url)
    if "date" not in lower:
        out["Date"] = lower["date"] = formatdate(time.time() if now is None else now, usegmt=True)
    return out, lower


def _replace(out: dict[str, str], lower: dict[str, str], name: str, value: str) -> None:
    """Set a header we compute ourselves, dropping any copy the caller passed in."""
    for existing in [key for key in out if key.lower() == name.lower()]:
        del out[existing]
    out[name] = lower[name.lower()] = value


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key_pem: str,
    now: float | None = None,
) -> dict[str, str]:
    """Sign a request the way Mastodon does; returns the full header dict to send.

    Covers `(request-target) host date`, plus `digest` when there is a body.
    `(request-target)` includes the query string. RSA keys sign as `rsa-sha256`,
    Ed25519 keys as `hs2019`.
    """
    key = _private_key(private_key_pem)
    out, lower = _prepare(url, headers, now)
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        _replace(out, lower, "Digest", body_digest(body))
        covered.append("digest")
    target = cavage.request_targets(method, url)[0]
    signed = cavage.signing_string(covered, target, lower, {})
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
    value = cavage.format_signature(key_id, algorithm, covered, _b64(_sign(key, signed)))
    _replace(out, lower, "Signature", value)
    return out


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key_pem: str,
    now: float | None = None,
) -> dict[str, str]:
    """Sign a request with RFC 9421 under the label `sig1`; returns the full header dict.

    Covers `@method @target-uri`, plus `content-digest` when there is a body.
    """
    key = _private_key(private_key_pem)
    out, lower = _prepare(url, headers, now)
    covered = ["@method", "@target-uri"]
    if body is not None:
        _replace(out, lower, "Content-Digest", content_digest(body))
        covered.append("content-digest")
    params: rfc9421.Params = {
        "created": int(time.time() if now is None else now),
        "keyid": key_id,
        "alg": "rsa-v1_5-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ed25519",
    }
    signature_params = rfc9421.serialize_inner_list([(name, {}) for name in covered], params)
    base = rfc9421.signature_base(method, url, lower, covered, signature_params)
    _replace(out, lower, "Signature-Input", f"sig1={signature_params}")
    _replace(out, lower, "Signature", f"sig1=:{_b64(_sign(key, base))}:")
    return out


# ---------------------------------------------------------------- parsing


def _check_window(created: float, expires: float | None, now: float, window: float) -> None:
    if created > now + CLOCK_SKEW:
        raise StaleSignature("signature is dated in the future")
    if now - created > window:
        raise StaleSignature("signature is too old")
    if expires is not None and expires < now - EXPIRY_GRACE:
        raise StaleSignature("signature has expired")


def _number(params: Mapping[str, str], name: str) -> float | None:
    if name not in params:
        return None
    try:
        return float(params[name])
    except ValueError:
        raise MalformedSignature(f"{name} is not a number") from None


def _http_date(value: str) -> float:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise MalformedSignature("unparseable Date header") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _parse_cavage(
    value: str,
    method: str,
    url: str,
    lower: Mapping[str, str],
    body: bytes,
    now: float,
    require_digest_on_post: bool,
) -> ParsedSignature:
    try:
        params = cavage.parse_params(value)
    except ValueError as exc:
        raise MalformedSignature(str(exc)) from None
    key_id, signature_b64 = params.get("keyId"), params.get("signature")
    if not key_id or not signature_b64:
        raise MalformedSignature("keyId and signature are required")
    algorithm = params.get("algorithm")
    if algorithm is not None:
        algorithm = algorithm.lower()
    if algorithm not in _CAVAGE_ALGORITHMS:
        raise UnsupportedAlgorithm(f"unsupported algorithm {algorithm}")
    covered = tuple(params.get("headers", "date").lower().split())
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except binascii.Error:
        raise MalformedSignature("signature is not base64") from None

    # Coverage rules, as Mastodon enforces them.
    if "date" not in covered and "(created)" not in covered:
        raise MalformedSignature("signature must cover date or (created)")
    if "(request-target)" not in covered and "digest" not in covered:
        raise MalformedSignature("signature must cover (request-target) or digest")
    if method.upper() == "GET" and "host" not in covered:
        raise MalformedSignature("a GET signature must cover host")
    if require_digest_on_post and method.upper() == "POST" and "digest" not in covered:
        raise MalformedSignature("a POST signature must cover digest")
    if "digest" in covered:
        if "digest" not in lower:
            raise DigestMismatch("Digest header missing")
        problem = check_digest_header(lower["digest"], body)
        if problem:
            raise DigestMismatch(problem)

    # `expires` widens the window to 12 hours only when the signature covers it: otherwise
    # anyone replaying a captured request could add it and stretch the hour to twelve.
    expires = _number(params, "expires") if "(expires)" in covered else None
    window = CLOCK_SKEW if expires is None else EXPIRES_WINDOW
    created: float | None = None
    if "(created)" in covered:
        created = _number(params, "created")
        if created is None:
            raise MalformedSignature("(created) is covered but created is missing")
        _check_window(created, expires, now, window)
    if "date" in covered and "date" in lower:
        date = _http_date(lower["date"])
        _check_window(date, expires, now, window)
        created = date if created is None else created

    targets = cavage.request_targets(method, url)
    if "(request-target)" not in covered:
        targets = targets[:1]
    try:
        strings = tuple(cavage.signing_string(covered, t, lower, params) for t in targets)
    except ValueError as exc:
        raise MalformedSignature(str(exc)) from None
    return ParsedSignature("cavage", key_id, algorithm, covered, strings, signature, created)


def _parse_rfc9421(
    method: str,
    url: str,
    lower: Mapping[str, str],
    body: bytes,
    now: float,
    require_digest_on_post: bool,
) -> ParsedSignature:
    if "signature" not in lower:
        raise MissingSignature("Signature-Input without Signature")
    try:
        inputs = rfc9421.parse_dictionary(lower["signature-input"])
        signatures = rfc9421.parse_dictionary(lower["signature"])
    except ValueError as exc:
        raise MalformedSignature(f"malformed signature headers: {exc}") from None
    # One signature is verified: the first label present in both headers.
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise MalformedSignature("no Signature matches a Signature-Input label")
    items, params = inputs[label]
    signature = signatures[label][0]
    if not isinstance(items, list) or not isinstance(signature, bytes):
        raise MalformedSignature("malformed signature headers")
    covered: list[str] = []
    for item, item_params in items:
        if not isinstance(item, str) or isinstance(item, rfc9421.Token) or item_params:
            raise MalformedSignature("unsupported covered component")
        if item in covered:
            raise MalformedSignature(f"component {item} is covered twice")
        covered.append(item)

    key_id, algorithm = params.get("keyid"), params.get("alg")
    created, expires = params.get("created"), params.get("expires")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignature("keyid is required")
    if algorithm is not None and (
        not isinstance(algorithm, str) or algorithm not in _RFC9421_ALGORITHMS
    ):
        raise UnsupportedAlgorithm(f"unsupported algorithm {algorithm!r}")
    if not isinstance(created, int) or isinstance(created, bool):
        raise MalformedSignature("created is required")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise MalformedSignature("expires is not an integer")
    _check_window(created, expires, now, CLOCK_SKEW)

    if "@method" not in covered:
        raise MalformedSignature("signature must cover @method")
    if "@target-uri" not in covered and not {"@authority", "@path"} <= set(covered):
        raise MalformedSignature("signature must cover @target-uri or @authority and @path")
    needs_digest = require_digest_on_post and (bool(body) or method.upper() == "POST")
    if needs_digest and "content-digest" not in covered:
        raise MalformedSignature("signature must cover content-digest")
    if "content-digest" in covered:
        if "content-digest" not in lower:
            raise DigestMismatch("Content-Digest header missing")
        problem = check_content_digest(lower["content-digest"], body)
        if problem:
            raise DigestMismatch(problem)

    try:
        signature_params = rfc9421.serialize_inner_list(items, params)
        base = rfc9421.signature_base(method, url, lower, covered, signature_params)
    except ValueError as exc:
        raise MalformedSignature(str(exc)) from None
    return ParsedSignature(
        "rfc9421", key_id, algorithm, tuple(covered), (base,), signature, float(created)
    )


def parse_request_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    require_digest_on_post: bool = True,
) -> ParsedSignature:
    """Cheap checks of a request's signature, without crypto; raises a `SignatureError`.

    RFC 9421 is used when `Signature-Input` is present, else the cavage
    `Signature` header, else `Authorization: Signature …`. `url` is the full
    URL the client requested (scheme, host, path and query).
    """
    lower = {name.lower(): value for name, value in headers.items()}
    lower.setdefault("host", rfc9421.authority(url))
    clock = time.time() if now is None else now
    if "signature-input" in lower:
        return _parse_rfc9421(method, url, lower, body, clock, require_digest_on_post)
    value = lower.get("signature")
    if value is None:
        scheme, _, rest = lower.get("authorization", "").partition(" ")
        if scheme.lower() == "signature":
            value = rest
    if value is None:
        raise MissingSignature("request is not signed")
    return _parse_cavage(value, method, url, lower, body, clock, require_digest_on_post)


# ---------------------------------------------------------------- verifying


def verify_parsed(parsed: ParsedSignature, public_key_pem: str) -> None:
    """Check the signature with the key; raises `BadSignature`. Blocking: run it in a thread."""
    try:
        key = _public_key(public_key_pem)
    except (ValueError, TypeError):
        raise BadSignature("unusable public key") from None
    for candidate in parsed.signing_strings:
        try:
            if isinstance(key, rsa.RSAPublicKey):
                if parsed.algorithm not in _RSA_ALGORITHMS:
                    raise BadSignature("algorithm does not match the key")
                if key.key_size < MIN_RSA_BITS:
                    raise BadSignature("RSA key too small")
                key.verify(parsed.signature, candidate, padding.PKCS1v15(), hashes.SHA256())
            else:
                if parsed.algorithm not in _ED25519_ALGORITHMS:
                    raise BadSignature("algorithm does not match the key")
                key.verify(parsed.signature, candidate)
        except InvalidSignature:
            continue
        return
    raise BadSignature("signature does not verify")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_pem: str,
    *,
    now: float | None = None,
) -> str:
    """Parse and verify in one go (blocking); returns the key id that signed."""
    parsed = parse_request_signature(method, url, headers, body, now=now)
    verify_parsed(parsed, public_key_pem)
    return parsed.key_id
