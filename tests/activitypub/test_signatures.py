"""HTTP signatures: round trips, Mastodon's refusal rules, RFC 9421's test vector, httpsig as oracle."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import httpsig
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from activitypub import signatures_cavage
from activitypub.signatures import (
    BadSignature,
    DigestMismatch,
    MalformedSignature,
    MissingSignature,
    SignatureError,
    StaleSignature,
    UnsupportedAlgorithm,
    body_digest,
    parse_request_signature,
    sign_cavage,
    sign_rfc9421,
    verify_parsed,
    verify_request,
)

NOW = 1_750_000_000.0
KEY_ID = "https://remote.example/users/alice#main-key"
INBOX = "https://local.example/users/bob/inbox"
BODY = b'{"type": "Create", "id": "https://remote.example/activities/1"}'


class KeyPair:
    """A private key and the PEMs of both halves."""

    def __init__(self, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> None:
        self.key = key
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


@pytest.fixture(scope="module")
def alice() -> KeyPair:
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def mallory() -> KeyPair:
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def edward() -> KeyPair:
    return KeyPair(ed25519.Ed25519PrivateKey.generate())


def signed_post(alice: KeyPair, url: str = INBOX, body: bytes = BODY) -> dict[str, str]:
    return sign_cavage(
        "POST",
        url,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=KEY_ID,
        private_key_pem=alice.private_pem,
        now=NOW,
    )


def hand_signed(
    alice: KeyPair,
    covered: list[str],
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    url: str = INBOX,
    extra: str = "",
    params: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A cavage signature over exactly `covered`, for the shapes `sign_cavage` never makes."""
    lower = {k.lower(): v for k, v in headers.items()}
    target = signatures_cavage.request_targets(method, url)[0]
    data = signatures_cavage.signing_string(covered, target, lower, params or {})
    assert isinstance(alice.key, rsa.RSAPrivateKey)
    sig = base64.b64encode(alice.key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    value = (
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{sig}"{extra}'
    )
    return {**headers, "Signature": value}


# ---------------------------------------------------------------- round trips


def test_cavage_post_round_trip(alice: KeyPair) -> None:
    headers = signed_post(alice)
    assert headers["Host"] == "local.example"
    assert headers["Date"] == "Sun, 15 Jun 2025 15:06:40 GMT"
    assert headers["Digest"] == body_digest(BODY)
    assert headers["Digest"].startswith("SHA-256=")
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW) == KEY_ID


def test_cavage_get_round_trip(alice: KeyPair) -> None:
    url = "https://local.example/users/bob?page=true"
    headers = sign_cavage(
        "GET", url, {}, None, key_id=KEY_ID, private_key_pem=alice.private_pem, now=NOW
    )
    assert "Digest" not in headers
    assert 'headers="(request-target) host date"' in headers["Signature"]
    assert verify_request("GET", url, headers, b"", alice.public_pem, now=NOW) == KEY_ID


def test_rfc9421_post_round_trip(alice: KeyPair) -> None:
    headers = sign_rfc9421(
        "POST", INBOX, {}, BODY, key_id=KEY_ID, private_key_pem=alice.private_pem, now=NOW
    )
    assert headers["Content-Digest"].startswith("sha-256=:")
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest");'
        f'created={int(NOW)};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert headers["Signature"].startswith("sig1=:")
    parsed = parse_request_signature("POST", INBOX, headers, BODY, now=NOW)
    assert parsed.scheme == "rfc9421"
    assert parsed.key_id == KEY_ID
    verify_parsed(parsed, alice.public_pem)


def test_rfc9421_get_round_trip(alice: KeyPair) -> None:
    url = "https://local.example/users/bob?page=2"
    headers = sign_rfc9421(
        "GET", url, {}, None, key_id=KEY_ID, private_key_pem=alice.private_pem, now=NOW
    )
    assert '("@method" "@target-uri")' in headers["Signature-Input"]
    assert "Content-Digest" not in headers
    assert verify_request("GET", url, headers, b"", alice.public_pem, now=NOW) == KEY_ID


def test_ed25519_keys_sign_and_verify_both_schemes(edward: KeyPair) -> None:
    cavage = sign_cavage(
        "POST", INBOX, {}, BODY, key_id=KEY_ID, private_key_pem=edward.private_pem, now=NOW
    )
    assert 'algorithm="hs2019"' in cavage["Signature"]
    assert verify_request("POST", INBOX, cavage, BODY, edward.public_pem, now=NOW) == KEY_ID
    rfc = sign_rfc9421(
        "POST", INBOX, {}, BODY, key_id=KEY_ID, private_key_pem=edward.private_pem, now=NOW
    )
    assert 'alg="ed25519"' in rfc["Signature-Input"]
    assert verify_request("POST", INBOX, rfc, BODY, edward.public_pem, now=NOW) == KEY_ID


def test_hs2019_and_absent_algorithm_accepted_for_rsa(alice: KeyPair) -> None:
    headers = signed_post(alice)
    # `algorithm` is not part of the signing string, so relabelling keeps it valid.
    for label in ('algorithm="hs2019",', ""):
        relabelled = {
            **headers,
            "Signature": headers["Signature"].replace('algorithm="rsa-sha256",', label),
        }
        assert verify_request("POST", INBOX, relabelled, BODY, alice.public_pem, now=NOW)


def test_headers_are_case_insensitive(alice: KeyPair) -> None:
    headers = signed_post(alice)
    for variant in (
        {k.lower(): v for k, v in headers.items()},
        {k.upper(): v for k, v in headers.items()},
    ):
        assert verify_request("POST", INBOX, variant, BODY, alice.public_pem, now=NOW)


def test_authorization_header_form(alice: KeyPair) -> None:
    headers = signed_post(alice)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW)


def test_sha512_digest_accepted(alice: KeyPair) -> None:
    import hashlib

    digest = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    base = {"Host": "local.example", "Date": "Sun, 15 Jun 2025 15:06:40 GMT", "Digest": digest}
    headers = hand_signed(alice, ["(request-target)", "host", "date", "digest"], base)
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW)


# ---------------------------------------------------------------- request-target


def test_request_target_includes_query_and_also_matches_without(alice: KeyPair) -> None:
    with_query = INBOX + "?a=1&b=2"
    signed_with = signed_post(alice, url=with_query)
    assert verify_request("POST", with_query, signed_with, BODY, alice.public_pem, now=NOW)
    # A sender that signed only the path (older GoToSocial) still verifies.
    signed_without = signed_post(alice, url=INBOX)
    assert verify_request("POST", with_query, signed_without, BODY, alice.public_pem, now=NOW)
    parsed = parse_request_signature("POST", with_query, signed_without, BODY, now=NOW)
    assert [s.split(b"\n")[0] for s in parsed.signing_strings] == [
        b"(request-target): post /users/bob/inbox?a=1&b=2",
        b"(request-target): post /users/bob/inbox",
    ]


def test_signature_for_another_path_refused(alice: KeyPair) -> None:
    headers = signed_post(alice, url="https://local.example/inbox")
    with pytest.raises(BadSignature):
        verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW)


# ---------------------------------------------------------------- refusals


def test_unsigned_refused() -> None:
    with pytest.raises(MissingSignature) as info:
        parse_request_signature("POST", INBOX, {"Host": "local.example"}, BODY, now=NOW)
    assert info.value.reason == "request is not signed"


def test_wrong_key_refused(alice: KeyPair, mallory: KeyPair) -> None:
    with pytest.raises(BadSignature):
        verify_request("POST", INBOX, signed_post(alice), BODY, mallory.public_pem, now=NOW)


def test_key_type_must_match_algorithm(alice: KeyPair, edward: KeyPair) -> None:
    with pytest.raises(BadSignature, match="algorithm does not match"):
        verify_request("POST", INBOX, signed_post(alice), BODY, edward.public_pem, now=NOW)
    with pytest.raises(BadSignature, match="unusable public key"):
        verify_request("POST", INBOX, signed_post(alice), BODY, "not a pem", now=NOW)


def test_changed_body_refused(alice: KeyPair) -> None:
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", INBOX, signed_post(alice), BODY + b" ", now=NOW)


def test_changed_digest_refused(alice: KeyPair) -> None:
    forged_body = b'{"type": "Delete"}'
    headers = {**signed_post(alice), "Digest": body_digest(forged_body)}
    with pytest.raises(BadSignature):
        verify_request("POST", INBOX, headers, forged_body, alice.public_pem, now=NOW)


def test_post_without_digest_refused(alice: KeyPair) -> None:
    base = {"Host": "local.example", "Date": "Sun, 15 Jun 2025 15:06:40 GMT"}
    headers = hand_signed(alice, ["(request-target)", "host", "date"], base)
    with pytest.raises(MalformedSignature, match="must cover digest"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)
    # Covered but absent from the request.
    headers = signed_post(alice)
    del headers["Digest"]
    with pytest.raises(DigestMismatch, match="missing"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


def test_unsupported_digest_algorithm_refused(alice: KeyPair) -> None:
    base = {"Host": "local.example", "Date": "Sun, 15 Jun 2025 15:06:40 GMT", "Digest": "MD5=abc="}
    headers = hand_signed(alice, ["(request-target)", "host", "date", "digest"], base)
    with pytest.raises(DigestMismatch, match="SHA-256"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


def test_must_cover_date_or_created(alice: KeyPair) -> None:
    base = {"Host": "local.example", "Digest": body_digest(BODY)}
    headers = hand_signed(alice, ["(request-target)", "host", "digest"], base)
    with pytest.raises(MalformedSignature, match="date or"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


@pytest.mark.parametrize(("offset", "message"), [(3601, "too old"), (-3601, "future")])
def test_date_outside_window_refused(alice: KeyPair, offset: float, message: str) -> None:
    headers = signed_post(alice)
    with pytest.raises(StaleSignature, match=message):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW + offset)


def test_skew_within_an_hour_accepted(alice: KeyPair) -> None:
    headers = signed_post(alice)
    for offset in (3500, -3500):
        assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW + offset)


def test_created_and_expires_extend_the_window_to_12_hours(alice: KeyPair) -> None:
    base = {"Host": "local.example", "Digest": body_digest(BODY)}
    covered = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    params = {"created": str(int(NOW)), "expires": str(int(NOW) + 13 * 3600)}
    extra = f",created={params['created']},expires={params['expires']}"
    headers = hand_signed(alice, covered, base, extra=extra, params=params)
    later = NOW + 6 * 3600
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=later)
    with pytest.raises(StaleSignature, match="too old"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW + 12.5 * 3600)

    params["expires"] = str(int(NOW) + 3600)
    extra = f",created={params['created']},expires={params['expires']}"
    headers = hand_signed(alice, covered, base, extra=extra, params=params)
    with pytest.raises(StaleSignature, match="expired"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW + 2 * 3600)


def test_date_with_covered_expires_gets_12_hours_uncovered_expires_does_not(
    alice: KeyPair,
) -> None:
    base = {
        "Host": "local.example",
        "Date": "Sun, 15 Jun 2025 15:06:40 GMT",
        "Digest": body_digest(BODY),
    }
    params = {"expires": str(int(NOW) + 13 * 3600)}
    extra = f",expires={params['expires']}"
    covered = ["(request-target)", "host", "date", "digest", "(expires)"]
    headers = hand_signed(alice, covered, base, extra=extra, params=params)
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW + 6 * 3600)
    # The same parameter, outside what was signed, is something anyone could have added.
    uncovered = ["(request-target)", "host", "date", "digest"]
    headers = hand_signed(alice, uncovered, base, extra=extra, params=params)
    with pytest.raises(StaleSignature, match="too old"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW + 6 * 3600)


def test_duplicate_parameters_refused(alice: KeyPair) -> None:
    headers = signed_post(alice)
    headers["Signature"] += f',keyId="{KEY_ID}"'
    with pytest.raises(MalformedSignature, match="duplicate"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


@pytest.mark.parametrize("drop", ["keyId", "signature"])
def test_key_id_and_signature_required(alice: KeyPair, drop: str) -> None:
    headers = signed_post(alice)
    params = signatures_cavage.parse_params(headers["Signature"])
    del params[drop]
    headers["Signature"] = ",".join(f'{k}="{v}"' for k, v in params.items())
    with pytest.raises(MalformedSignature, match="required"):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


def test_unknown_algorithm_refused(alice: KeyPair) -> None:
    headers = signed_post(alice)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")
    with pytest.raises(UnsupportedAlgorithm):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


def test_garbage_signature_header_refused() -> None:
    for garbage in ("", "nonsense", 'keyId="a",,', 'keyId="a' + "x" * 10):
        with pytest.raises(SignatureError):
            parse_request_signature("POST", INBOX, {"Signature": garbage}, BODY, now=NOW)


def test_get_must_cover_host(alice: KeyPair) -> None:
    headers = hand_signed(
        alice,
        ["(request-target)", "date"],
        {"Date": "Sun, 15 Jun 2025 15:06:40 GMT"},
        method="GET",
    )
    with pytest.raises(MalformedSignature, match="host"):
        parse_request_signature("GET", INBOX, headers, b"", now=NOW)


# ---------------------------------------------------------------- RFC 9421 refusals


def rfc_post(alice: KeyPair) -> dict[str, str]:
    return sign_rfc9421(
        "POST", INBOX, {}, BODY, key_id=KEY_ID, private_key_pem=alice.private_pem, now=NOW
    )


def test_rfc9421_changed_body_refused(alice: KeyPair) -> None:
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", INBOX, rfc_post(alice), b"{}", now=NOW)


def test_rfc9421_wrong_key_and_wrong_url_refused(alice: KeyPair, mallory: KeyPair) -> None:
    with pytest.raises(BadSignature):
        verify_request("POST", INBOX, rfc_post(alice), BODY, mallory.public_pem, now=NOW)
    with pytest.raises(BadSignature):
        verify_request("POST", INBOX + "/other", rfc_post(alice), BODY, alice.public_pem, now=NOW)


@pytest.mark.parametrize(("offset", "message"), [(3601, "too old"), (-3601, "future")])
def test_rfc9421_stale_refused(alice: KeyPair, offset: float, message: str) -> None:
    with pytest.raises(StaleSignature, match=message):
        parse_request_signature("POST", INBOX, rfc_post(alice), BODY, now=NOW + offset)


@pytest.mark.parametrize(
    ("signature_input", "error", "message"),
    [
        (
            'sig1=("@method" "@target-uri" "content-digest");keyid="k"',
            MalformedSignature,
            "created",
        ),
        (
            'sig1=("@target-uri" "content-digest");created=1;keyid="k"',
            MalformedSignature,
            "@method",
        ),
        (
            'sig1=("@method" "content-digest");created=1;keyid="k"',
            MalformedSignature,
            "@target-uri",
        ),
        (
            'sig1=("@method" "@target-uri");created=1;keyid="k"',
            MalformedSignature,
            "content-digest",
        ),
        ('sig1=("@method" "@method");created=1;keyid="k"', MalformedSignature, "twice"),
        ('sig1=("@method" "@target-uri" "content-digest");created=1', MalformedSignature, "keyid"),
        (
            'sig1=("@method" "@target-uri" "content-digest");created=1;keyid="k";alg="hmac-sha256"',
            UnsupportedAlgorithm,
            "algorithm",
        ),
        ('sig2=("@method");created=1;keyid="k"', MalformedSignature, "label"),
        ("sig1=(unterminated", MalformedSignature, "malformed"),
    ],
)
def test_rfc9421_policy(
    alice: KeyPair, signature_input: str, error: type[SignatureError], message: str
) -> None:
    headers = rfc_post(alice)
    headers["Signature-Input"] = signature_input
    with pytest.raises(error, match=message):
        parse_request_signature("POST", INBOX, headers, BODY, now=1.0)


def test_rfc9421_without_signature_header(alice: KeyPair) -> None:
    headers = rfc_post(alice)
    del headers["Signature"]
    with pytest.raises(MissingSignature):
        parse_request_signature("POST", INBOX, headers, BODY, now=NOW)


def test_rfc9421_authority_and_path_suffice(alice: KeyPair) -> None:
    assert isinstance(alice.key, rsa.RSAPrivateKey)
    params = (
        f'("@method" "@authority" "@path" "content-digest");created={int(NOW)};keyid="{KEY_ID}"'
    )
    headers = rfc_post(alice)
    base = (
        '"@method": POST\n"@authority": local.example\n"@path": /users/bob/inbox\n'
        f'"content-digest": {headers["Content-Digest"]}\n"@signature-params": {params}'
    ).encode()
    sig = base64.b64encode(alice.key.sign(base, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers.update({"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{sig}:"})
    assert verify_request("POST", INBOX, headers, BODY, alice.public_pem, now=NOW) == KEY_ID


# ---------------------------------------------------------------- RFC 9421 Appendix B.2.6

# RFC 9421 Appendix B.1.4, test-key-ed25519 (JWK d and x, base64url).
RFC_ED25519_D = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
RFC_ED25519_X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
# Appendix B.2's test request, and B.2.6's signature over it.
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
    "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    "Signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
}
RFC_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    b'"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_rfc9421_appendix_b26_known_answer() -> None:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(_b64url(RFC_ED25519_D))
    public = private.public_key()
    assert public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == _b64url(RFC_ED25519_X)
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()

    # The example covers no content-digest, which our policy would demand.
    parsed = parse_request_signature(
        "POST", RFC_URL, RFC_HEADERS, RFC_BODY, now=1618884473, require_digest_on_post=False
    )
    assert parsed.signing_strings == (RFC_BASE,)
    assert parsed.key_id == "test-key-ed25519"
    verify_parsed(parsed, public_pem)
    # Ed25519 is deterministic: signing the base we built reproduces the RFC's bytes.
    assert private.sign(RFC_BASE) == parsed.signature

    tampered = {**RFC_HEADERS, "Content-Type": "text/plain"}
    parsed = parse_request_signature(
        "POST", RFC_URL, tampered, RFC_BODY, now=1618884473, require_digest_on_post=False
    )
    with pytest.raises(BadSignature):
        verify_parsed(parsed, public_pem)
    # And under the default policy the uncovered body is refused outright.
    with pytest.raises(MalformedSignature, match="content-digest"):
        parse_request_signature("POST", RFC_URL, RFC_HEADERS, RFC_BODY, now=1618884473)


# ---------------------------------------------------------------- httpsig as an oracle


def test_what_we_sign_verifies_with_httpsig(alice: KeyPair) -> None:
    url = INBOX + "?x=1"
    headers = signed_post(alice, url=url)
    verifier = httpsig.HeaderVerifier(
        headers,
        alice.public_pem,
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/users/bob/inbox?x=1",
        sign_header="signature",
    )
    assert verifier.verify()
    get_headers = sign_cavage(
        "GET", url, {}, None, key_id=KEY_ID, private_key_pem=alice.private_pem, now=NOW
    )
    verifier = httpsig.HeaderVerifier(
        get_headers,
        alice.public_pem,
        method="GET",
        path="/users/bob/inbox?x=1",
        sign_header="signature",
    )
    assert verifier.verify()


@pytest.mark.parametrize("sign_header", ["signature", "authorization"])
def test_what_httpsig_signs_verifies_with_us(alice: KeyPair, sign_header: str) -> None:
    signer = httpsig.HeaderSigner(
        KEY_ID,
        alice.private_pem,
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header=sign_header,
    )
    headers = {
        "Host": "local.example",
        "Date": "Sun, 15 Jun 2025 15:06:40 GMT",
        "Digest": body_digest(BODY),
        "Content-Type": "application/activity+json",
    }
    signed = dict(signer.sign(headers, method="POST", path="/users/bob/inbox?x=1").items())
    url = INBOX + "?x=1"
    assert verify_request("POST", url, signed, BODY, alice.public_pem, now=NOW) == KEY_ID
    with pytest.raises(DigestMismatch):
        verify_request("POST", url, signed, b"{}", alice.public_pem, now=NOW)
