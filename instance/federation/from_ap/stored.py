"""The remote document kept beside a row: whole, or not at all.

Cutting the serialised text at a size limit writes invalid JSON, which every later
reader must then guess around. A document over the limit is not kept (NULL): the row's
columns already hold everything shown, the document is only a record of what was sent.
Refusing the object instead would drop a post (or an actor) for a record nobody reads.
"""

from __future__ import annotations

import json
from typing import Any

# Bytes of UTF-8: what the column costs on disk.
MAX_STORED_DOCUMENT = 200_000


def stored_document(raw: dict[str, Any], limit: int = MAX_STORED_DOCUMENT) -> str | None:
    """The document as JSON text when it fits in `limit` bytes, else None."""
    text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    return text if len(text.encode("utf-8")) <= limit else None
