"""List-valued `type` and Question options in the vocabulary views."""

from __future__ import annotations

from activitypub.vocab import ACTIVITY_TYPES, parse_activity, parse_note, primary_type


def test_activity_type_is_the_first_known_one() -> None:
    """An extension type listed first does not hide the activity type after it."""
    doc = {"type": ["litepub:Extra", "Create"], "actor": "https://a.example/u/1"}
    assert parse_activity(doc).type == "Create"
    assert parse_activity({**doc, "type": ["Like"]}).type == "Like"
    # None known: the first string, so the caller can say what it ignores.
    assert parse_activity({**doc, "type": ["Wave", "Nod"]}).type == "Wave"


def test_primary_type_shapes() -> None:
    assert primary_type({"type": "Note"}, ACTIVITY_TYPES) == "Note"
    assert primary_type({"type": [1, "Undo"]}, ACTIVITY_TYPES) == "Undo"
    assert primary_type({"type": []}, ACTIVITY_TYPES) is None
    assert primary_type("Note", ACTIVITY_TYPES) is None


def test_question_options_from_one_of_or_any_of() -> None:
    base = {"id": "https://a.example/q/1", "type": ["Question"]}
    one = parse_note({**base, "oneOf": [{"type": "Note", "name": " yes "}, {"name": ""}]})
    assert one.poll_options == ("yes",)
    many = parse_note({**base, "anyOf": [{"nameMap": {"en": "a"}}, {"name": "b"}]})
    assert many.poll_options == ("a", "b")
    # Options belong to Questions only.
    assert parse_note({**base, "type": "Note", "oneOf": [{"name": "x"}]}).poll_options == ()
