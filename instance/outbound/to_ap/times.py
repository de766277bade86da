"""Times on the wire: epoch seconds to the ISO 8601 UTC form every peer reads."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: int | float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
