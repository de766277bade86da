"""URL converters: an `<int:...>` segment is a database id, so it fits in 64 signed bits.

Werkzeug's integer converter accepts any number of digits; a 30-digit "post id" would
reach SQLite and overflow there. Bounded here, it is simply a URL that matches nothing (404).
"""

from __future__ import annotations

from typing import Any

from quart import Quart
from werkzeug.routing import IntegerConverter

MAX_ID = (1 << 63) - 1


class DatabaseIdConverter(IntegerConverter):
    """Non-negative integers up to the largest 64-bit signed id."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app: Quart) -> None:
    # Replaces `int` before any blueprint is registered, so every route gets the bound.
    app.url_map.converters["int"] = DatabaseIdConverter
