"""Named parameters (`:name`) rewritten to PostgreSQL's positional ones (`$1`), once per SQL text.

Every statement in `db/` names its parameters, which SQLite takes as they are. asyncpg
takes `$n` and a list; `rewrite` finds the names outside string literals, quoted
identifiers, comments and `::` casts, gives each distinct name one number (a name used
twice is one parameter), and remembers the answer for that exact text: the statements
are a fixed set of strings, so the cache stays as small as the code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from instance.errors import BadRequest

# What the scanner steps over whole (strings, quoted names, comments, casts), or a name.
_TOKEN = re.compile(
    r"""
      (?P<skip> '(?:[^']|'')*'          # 'a string', '' inside
              | "(?:[^"]|"")*"          # "a quoted identifier"
              | --[^\n]*                # a comment to the end of the line
              | /\*.*?\*/               # a block comment
              | ::                      # a cast, never a parameter
              )
    | (?<![:\w]):(?P<name>[A-Za-z_]\w*)(?P<nulltest>\s+IS\s+(?:NOT\s+)?NULL\b)?
    """,
    re.VERBOSE | re.DOTALL,
)


class MissingParameter(KeyError):
    """A statement names a parameter its caller did not give."""


class NulInText(BadRequest):
    """PostgreSQL text cannot hold U+0000 (SQLite's can): refused as bad input, a 400."""


# SQLite types a parameter by its value; PostgreSQL by where it stands, and fails where
# that says nothing: `(:x IS NULL OR p.id < :x)` (the optional filter of every page
# query) or `SELECT :x` in a CTE. So each parameter is cast to its value's type, as SQLite
# would take it (`typed`); a None is left to its context, or is an id where it is only
# null-tested (every optional filter of `db/` is an id).
_TYPES: dict[type, str] = {int: "bigint", str: "text", float: "double precision", bytes: "bytea"}
_MARK = re.compile("\x00([0-9]+)(N?)\x00")


@functools.lru_cache(maxsize=4096)
def rewrite(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with `:name` as `$n` (followed by a mark `typed` replaces with a cast), and the
    names in the order of their numbers."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return match.group(0)
        if name not in names:
            names[name] = len(names) + 1
        n = names[name]
        if match.group("nulltest"):
            return f"${n}\x00{n}N\x00{match.group('nulltest')}"
        return f"${n}\x00{n}\x00"

    return _TOKEN.sub(number, sql), tuple(names)


@functools.lru_cache(maxsize=8192)
def _with_casts(text: str, types: tuple[str | None, ...]) -> str:
    def cast(match: re.Match[str]) -> str:
        kind = types[int(match.group(1)) - 1]
        if kind is None and match.group(2):
            kind = "bigint"
        return f"::{kind}" if kind else ""

    return _MARK.sub(cast, text)


def typed(text: str, values: list[Any]) -> str:
    """The rewritten text with each parameter cast to its value's type."""
    if not values:
        return text
    return _with_casts(text, tuple(_TYPES.get(type(v)) for v in values))


def _value(value: Any) -> Any:
    # SQLite stores a bool as 0/1 in the INTEGER flag columns; asyncpg's int codecs refuse
    # a bool, so flags are passed as the integers SQLite would have stored.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        raise NulInText()
    return value


def arguments(names: tuple[str, ...], params: Mapping[str, Any] | None) -> list[Any]:
    """The values of `params` in the order `rewrite` numbered them."""
    if not names:
        return []
    if params is None:
        raise MissingParameter(names[0])
    try:
        return [_value(params[name]) for name in names]
    except KeyError as exc:
        raise MissingParameter(exc.args[0]) from None
