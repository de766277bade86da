"""RFC 9421 wire format: structured fields (RFC 8941) and the signature base (§2.5).

Only the parts HTTP Message Signatures need: dictionaries whose members are inner
lists or items, with parameters. Everything here is pure and raises `ValueError`
on malformed input; `activitypub.signatures` turns that into `MalformedSignature`
and applies the acceptance policy (what must be covered, clocks, algorithms).
"""

from __future__ import annotations

import base64
import string
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit


class Token(str):
    """A structured-field token: serialised bare, unlike a string which is quoted."""

    __slots__ = ()


BareItem = int | float | str | bytes | bool
Params = dict[str, BareItem]
InnerList = list[tuple[BareItem, Params]]
Member = tuple[BareItem | InnerList, Params]

_KEY_FIRST = set(string.ascii_lowercase + "*")
_KEY_REST = _KEY_FIRST | set(string.digits + "_-.")
_TOKEN_FIRST = set(string.ascii_letters + "*")
_TCHAR = set(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_B64 = set(string.ascii_letters + string.digits + "+/=")


class _Parser:
    """A cursor over one field value; each method consumes what it parsed."""

    def __init__(self, text: str) -> None:
        self.text = text.strip(" ")
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def key(self) -> str:
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise ValueError(f"bad key at {self.pos}")
        start = self.pos
        while self.peek() and self.peek() in _KEY_REST:
            self.pos += 1
        return self.text[start : self.pos]

    def parameters(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value
        return params

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.quoted()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            self.pos += 1
            flag = self.peek()
            if flag not in ("0", "1"):
                raise ValueError("bad boolean")
            self.pos += 1
            return flag == "1"
        if char and char in _TOKEN_FIRST:
            start = self.pos
            while self.peek() and self.peek() in _TCHAR:
                self.pos += 1
            return Token(self.text[start : self.pos])
        raise ValueError(f"bad item at {self.pos}")

    def number(self) -> int | float:
        start = self.pos
        if self.peek() == "-":
            self.pos += 1
        while self.peek() and (self.peek().isdigit() or self.peek() == "."):
            self.pos += 1
        raw = self.text[start : self.pos]
        digits = raw.lstrip("-")
        if not digits or not digits[0].isdigit():
            raise ValueError("bad number")
        if "." in digits:
            whole, _, frac = digits.partition(".")
            if len(whole) > 12 or not 1 <= len(frac) <= 3 or "." in frac:
                raise ValueError("bad decimal")
            return float(raw)
        if len(digits) > 15:
            raise ValueError("integer too long")
        return int(raw)

    def quoted(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise ValueError("unterminated string")
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\") or not escaped:
                    raise ValueError("bad escape in string")
                self.pos += 1
                out.append(escaped)
            elif " " <= char <= "~":
                out.append(char)
            else:
                raise ValueError("control character in string")

    def byte_sequence(self) -> bytes:
        self.expect(":")
        end = self.text.find(":", self.pos)
        if end < 0:
            raise ValueError("unterminated byte sequence")
        encoded = self.text[self.pos : end]
        if not set(encoded) <= _B64:
            raise ValueError("bad base64 in byte sequence")
        self.pos = end + 1
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4))

    def inner_list(self) -> InnerList:
        self.expect("(")
        items: InnerList = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return items
            item = self.bare_item()
            items.append((item, self.parameters()))
            if self.peek() not in (" ", ")"):
                raise ValueError(f"bad inner list at {self.pos}")


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an RFC 8941 dictionary; a repeated key keeps the last value, as §4.2.2 says."""
    parser = _Parser(text)
    members: dict[str, Member] = {}
    if not parser.text:
        raise ValueError("empty dictionary")
    while True:
        name = parser.key()
        value: BareItem | InnerList = True
        if parser.peek() == "=":
            parser.pos += 1
            value = parser.inner_list() if parser.peek() == "(" else parser.bare_item()
        members[name] = (value, parser.parameters())
        parser.skip(" \t")
        if not parser.peek():
            return members
        parser.expect(",")
        parser.skip(" \t")
        if not parser.peek():
            raise ValueError("trailing comma")


def serialize_bare_item(item: BareItem) -> str:
    if isinstance(item, bool):
        return "?1" if item else "?0"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return f"{item:.3f}".rstrip("0").rstrip(".") + ("" if item % 1 else ".0")
    if isinstance(item, bytes):
        return ":" + base64.b64encode(item).decode("ascii") + ":"
    if isinstance(item, Token):
        return str(item)
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={serialize_bare_item(value)}"
        for name, value in params.items()
    )


def serialize_inner_list(items: InnerList, params: Params) -> str:
    inner = " ".join(serialize_bare_item(item) + serialize_params(p) for item, p in items)
    return f"({inner}){serialize_params(params)}"


def authority(url: str) -> str:
    """The normalised authority of `url`: lower-case host, default port dropped (§2.2.3)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2].lower()
    default = {"https": ":443", "http": ":80"}.get(parts.scheme.lower())
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return netloc


def component_value(name: str, method: str, url: str, headers: Mapping[str, str]) -> str:
    """The value of one covered component (§2.1 fields, §2.2 derived components).

    `headers` must have lower-case names. `@query-param` and component parameters
    (`;sf`, `;key`, `;bs`, `;req`) are not supported: no fediverse sender uses them.
    """
    parts = urlsplit(url)
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return url
    if name == "@authority":
        return authority(url)
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return (parts.path or "/") + ("?" + parts.query if parts.query else "")
    if name.startswith("@"):
        raise ValueError(f"unsupported derived component {name}")
    if name != name.lower():
        raise ValueError(f"component names must be lower case: {name}")
    if name not in headers:
        raise ValueError(f"covered header {name} is missing")
    # RFC 9421 §2.1: leading and trailing whitespace is trimmed; obs-fold is not legal here.
    return headers[name].strip(" \t")


def signature_base(
    method: str,
    url: str,
    headers: Mapping[str, str],
    covered: Sequence[str],
    signature_params: str,
) -> bytes:
    """The bytes that are signed (§2.5): one line per component, then `@signature-params`."""
    lines = []
    for name in covered:
        value = component_value(name, method, url, headers)
        if "\n" in value or "\r" in value:
            raise ValueError(f"line break in component {name}")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {signature_params}')
    return wire_bytes("\n".join(lines))


def wire_bytes(text: str) -> bytes:
    """Header text back to the bytes that were on the wire.

    ASGI servers decode header bytes as Latin-1, so encoding as Latin-1 restores
    them exactly; text that cannot be Latin-1 was built by us and is sent as UTF-8.
    """
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")
