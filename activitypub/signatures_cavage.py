"""draft-cavage-http-signatures-12 wire format: the `Signature` parameters and signing string.

Pure and policy-free; raises `ValueError` on malformed input. What must be
covered, which clock window applies and which algorithms are accepted is decided
in `activitypub.signatures`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from activitypub.signatures_rfc9421 import wire_bytes

# name="quoted value" or name=123 (cavage-12 §2.1: created/expires are bare integers).
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([0-9][0-9.]*))\s*(,|$)')


def parse_params(value: str) -> dict[str, str]:
    """Parse `keyId="…",algorithm="…",headers="…",signature="…"` into a dict.

    A repeated parameter is refused: which copy a verifier reads is ambiguous,
    and that ambiguity is how signature-confusion attacks start.
    """
    params: dict[str, str] = {}
    pos = 0
    text = value.strip()
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None:
            raise ValueError("malformed Signature parameters")
        name = match.group(1)
        if name in params:
            raise ValueError(f"duplicate Signature parameter {name}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
        if match.group(4) == "," and pos >= len(text):
            raise ValueError("trailing comma in Signature parameters")
    return params


def request_targets(method: str, url: str) -> list[str]:
    """`(request-target)` values to try: with the query string, then without.

    Some senders (older GoToSocial, some Pleroma) signed the path only; Mastodon
    accepts both, and so do we, since the query adds nothing to an inbox POST.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    targets = [f"{method.lower()} {path}?{parts.query}"] if parts.query else []
    targets.append(f"{method.lower()} {path}")
    return targets


def signing_string(
    covered: Sequence[str],
    request_target: str,
    headers: Mapping[str, str],
    params: Mapping[str, str],
) -> bytes:
    """The cavage-12 §2.3 signing string; `headers` must have lower-case names."""
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = request_target
        elif name in ("(created)", "(expires)"):
            param = name[1:-1]
            if param not in params:
                raise ValueError(f"{name} is covered but the {param} parameter is missing")
            value = params[param]
        elif name.startswith("("):
            raise ValueError(f"unknown pseudo-header {name}")
        elif name in headers:
            value = headers[name].strip()
        else:
            raise ValueError(f"covered header {name} is missing")
        lines.append(f"{name}: {value}")
    return wire_bytes("\n".join(lines))


def format_signature(
    key_id: str, algorithm: str, covered: Sequence[str], signature_b64: str
) -> str:
    """The `Signature` header value, in the parameter order Mastodon sends."""
    for value in (key_id, algorithm, *covered):
        if '"' in value:
            raise ValueError("double quote in a Signature parameter")
    return (
        f'keyId="{key_id}",algorithm="{algorithm}",'
        f'headers="{" ".join(covered)}",signature="{signature_b64}"'
    )
