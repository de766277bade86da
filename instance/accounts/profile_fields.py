"""Profile fields: up to four name/value pairs shown on a profile and sent as PropertyValue.

Values are plain text rendered like a bio line: escaped, URLs linked, no paragraph wrapper
(Mastodon shows a field value inline). Names stay plain text; templates escape them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from activitypub.html import text_to_html
from instance.errors import N_, ValidationFailed

MAX_FIELDS = 4
NAME_MAX = 255
VALUE_MAX = 2048


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str


def _one_line(text: str) -> str:
    # A field is one line; control characters and runs of whitespace collapse to one space.
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def inline_html(text: str) -> str:
    """One line of plain text as escaped, linked HTML without the <p> that text_to_html adds."""
    rendered = text_to_html(text)
    if rendered.startswith("<p>") and rendered.endswith("</p>"):
        rendered = rendered[3:-4]
    return rendered


def clean_fields(pairs: list[tuple[str, str]]) -> list[ProfileField]:
    """Validated fields; blank pairs dropped; over-long ones refused with a reason."""
    fields: list[ProfileField] = []
    for index, (raw_name, raw_value) in enumerate(pairs):
        name, value = _one_line(raw_name), _one_line(raw_value)
        if not name and not value:
            continue
        if len(name) > NAME_MAX:
            raise ValidationFailed(
                N_("A field name has at most %(max)d characters."),
                field=f"field_name_{index}",
                max=NAME_MAX,
            )
        if len(value) > VALUE_MAX:
            raise ValidationFailed(
                N_("A field value has at most %(max)d characters."),
                field=f"field_value_{index}",
                max=VALUE_MAX,
            )
        if not name:
            raise ValidationFailed(N_("Give each field a name."), field=f"field_name_{index}")
        fields.append(ProfileField(name, value))
    if len(fields) > MAX_FIELDS:
        raise ValidationFailed(
            N_("A profile has at most %(max)d fields."), field="fields", max=MAX_FIELDS
        )
    return fields


def fields_json(fields: list[ProfileField]) -> str:
    """The stored form: `value` keeps the source for editing, `value_html` is what is shown."""
    return json.dumps(
        [{"name": f.name, "value": f.value, "value_html": inline_html(f.value)} for f in fields],
        ensure_ascii=False,
    )


def stored_fields(raw: str | None) -> list[dict[str, str]]:
    """Fields as stored (for the profile page and the edit form); bad JSON reads as none."""
    try:
        data = json.loads(raw or "[]")
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [
        {
            "name": str(f.get("name", "")),
            "value": str(f.get("value", "")),
            "value_html": str(f.get("value_html", "")),
        }
        for f in data
        if isinstance(f, dict)
    ]
