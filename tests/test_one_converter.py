"""`to_ap` builds every outgoing ActivityPub document: no other module of instance/ writes one.

An ActivityPub document is recognised in the source, with `ast`: a dict literal with an
``"@context"`` key, or with a ``"type"`` key whose value is an ActivityStreams type (a
constant, or either branch of a conditional), or an assignment ``doc["@context"] = …`` /
``doc["type"] = "<AS type>"``. Only `instance/outbound/to_ap/` may contain one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from activitypub.vocab import (
    ACTIVITY_TYPES,
    ACTOR_TYPES,
    COLLECTION_TYPES,
    KEY_TYPES,
    NOTE_TYPES,
)

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
CONVERTER = INSTANCE / "outbound" / "to_ap"

# Types of the objects inside documents too (tags, attachments, deleted objects).
AS_TYPES = (
    ACTIVITY_TYPES
    | ACTOR_TYPES
    | COLLECTION_TYPES
    | KEY_TYPES
    | NOTE_TYPES
    | {"Tombstone", "Mention", "Hashtag", "Emoji", "PropertyValue", "Document", "Link", "Image"}
)


def _type_values(node: ast.expr) -> Iterator[object]:
    if isinstance(node, ast.Constant):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _type_values(node.body)
        yield from _type_values(node.orelse)


def _is_document_key(key: ast.expr | None, value: ast.expr) -> bool:
    if not isinstance(key, ast.Constant):
        return False
    if key.value == "@context":
        return True
    return key.value == "type" and any(v in AS_TYPES for v in _type_values(value))


def documents_in(source: str) -> list[int]:
    """Line numbers of ActivityPub documents written in this source."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            if any(_is_document_key(k, v) for k, v in zip(node.keys, node.values, strict=True)):
                found.append(node.lineno)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _is_document_key(target.slice, node.value):
                    found.append(node.lineno)
    return found


def test_the_detector_sees_every_shape() -> None:
    assert documents_in('d = {"@context": C, "id": i}') == [1]
    assert documents_in('d = {"type": "Follow", "id": i}') == [1]
    assert documents_in('d = {"type": "Service" if bot else "Person"}') == [1]
    assert documents_in('doc["@context"] = C') == [1]
    assert documents_in('doc["type"] = "OrderedCollection"') == [1]
    # Not documents: other "type" keys (a job, a form), reading a type.
    assert documents_in('d = {"type": "deliver", "inbox": x}') == []
    assert documents_in('kind = doc["type"] == "Create"') == []


def test_only_to_ap_writes_activitypub_documents() -> None:
    offenders = []
    for path in sorted(INSTANCE.rglob("*.py")):
        relative = path.relative_to(INSTANCE).as_posix()
        if path.is_relative_to(CONVERTER):
            continue
        offenders += [f"instance/{relative}:{line}" for line in documents_in(path.read_text())]
    assert offenders == [], "build these with instance.outbound.to_ap"


def test_to_ap_is_where_the_documents_are() -> None:
    # The scan looks at the right tree: the converter itself is full of documents.
    assert sum(len(documents_in(p.read_text())) for p in CONVERTER.rglob("*.py")) >= 10
