"""`from_ap.actors`: a parsed remote actor becomes the values of its account row.

Run over every actor document in the fixtures (real servers), then stored through the
account writer on a real database and read back.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from activitypub.vocab import VocabError, parse_actor
from instance.db import keys as keys_q
from instance.federation.from_ap.actors import (
    MAX_BIO,
    key_document,
    remote_account,
)
from tests.helpers.social import gapo

FIXTURES = Path(__file__).parent / "fixtures"
ACTOR_FILES = sorted(FIXTURES.glob("*/actor-*.json"))
# Actor documents without an inbox: a person we cannot deliver to is not stored.
REFUSED_ACTOR_FIXTURES = {"actor-person-two-keys.json", "actor-person-dumpsterqueer.json"}
GARGRON = FIXTURES / "mastodon" / "actor-person-gargron.json"


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.mark.parametrize("path", ACTOR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_actor_gives_row_values(path: Path) -> None:
    try:
        actor = parse_actor(_load(path))
    except VocabError:
        # Two fixtures are refused by the parser on purpose (tests/activitypub covers them).
        assert path.name in REFUSED_ACTOR_FIXTURES
        return
    account = remote_account(actor)
    values = account.row_values(fetched_at=1000)
    assert values["ap_inbox"] == actor.inbox
    assert values["domain"] and values["domain"] in actor.id
    assert values["username"] and len(values["username"]) <= 255
    assert values["updated_at"] == values["ap_fetched_at"] == 1000
    for url in ("avatar_url", "header_url", "ap_url"):
        assert values[url] is None or values[url].startswith(("https://", "http://"))
    assert json.loads(values["fields_json"]) is not None
    assert all(key.owner == actor.id for key in account.keys)


def test_hostile_values_are_cut_sanitised_and_dropped() -> None:
    doc = copy.deepcopy(_load(GARGRON))
    doc["icon"] = {"type": "Image", "url": "javascript:alert(1)"}
    doc["summary"] = "<script>x</script>" + "a" * (MAX_BIO + 50)
    doc["publicKey"] = [
        doc["publicKey"],
        {"id": "https://evil.example/k", "owner": doc["id"], "publicKeyPem": "PEM"},
        {"id": f"{doc['id']}#other", "owner": "https://evil.example/u", "publicKeyPem": "PEM"},
    ]
    account = remote_account(parse_actor(doc))
    assert account.avatar_url is None
    assert "<script" not in account.note_html and len(account.note_html) <= MAX_BIO
    assert [key.id for key in account.keys] == [doc["publicKey"][0]["id"]]


def test_key_documents() -> None:
    key = key_document(
        {
            "id": "https://a.example/k",
            "type": "Key",
            "owner": "https://a.example/u",
            "publicKeyPem": "P",
        }
    )
    assert key is not None and (key.actor_id, key.names_owner, key.pem) == (
        "https://a.example/u",
        True,
        "P",
    )
    actor = key_document({"id": "https://a.example/u", "type": "Person"})
    assert actor is not None and (actor.actor_id, actor.names_owner) == (
        "https://a.example/u",
        False,
    )
    assert key_document({"type": "Person"}) is None


async def test_an_actor_with_a_relative_key_id_is_stored_without_that_key(app: Quart) -> None:
    # An old Bridgy Fed actor names its key "jk.nipponalba.scot": storing it used to raise
    # (the origin of a relative URL), so the actor could not be stored at all.
    actor = parse_actor(_load(FIXTURES / "bridgy-fed" / "actor-person.json"))
    assert remote_account(actor).keys == ()
    row = await gapo(app).actors.store(actor)
    assert row["ap_id"] == actor.id
    assert await keys_q.get_by_key_id(gapo(app).db, "jk.nipponalba.scot") is None


async def test_the_account_writer_stores_what_from_ap_gives(app: Quart) -> None:
    actor = parse_actor(_load(GARGRON))
    expected = remote_account(actor)
    services = gapo(app)
    row = await services.actors.store(actor)
    assert row["ap_id"] == actor.id and not row["local"]
    for column, value in expected.row_values(fetched_at=0).items():
        if column not in ("updated_at", "ap_fetched_at"):
            assert row[column] == value, column
    stored = await keys_q.get_by_key_id(services.db, expected.keys[0].id)
    assert stored is not None and stored["public_pem"] == expected.keys[0].pem
    # A refresh updates the same row.
    again = await services.actors.store(parse_actor({**actor.raw, "name": "Renamed"}))
    assert again["id"] == row["id"] and again["display_name"] == "Renamed"


def test_an_oversized_actor_document_is_not_kept_cut_short() -> None:
    """Cutting the JSON text at the limit stored invalid JSON; now it is whole or absent."""
    doc = copy.deepcopy(_load(GARGRON))
    assert json.loads(remote_account(parse_actor(doc)).ap_json or "")["id"] == doc["id"]
    doc["attachment"] = [{"type": "PropertyValue", "name": "x", "value": "y" * 250_000}]
    assert remote_account(parse_actor(doc)).ap_json is None
