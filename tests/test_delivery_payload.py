"""Reading deliver payloads: the per-fan-out cache gives what a full parse gives."""

from __future__ import annotations

import json

import pytest

from instance.outbound.delivery_payload import MalformedPayload, PayloadReader, parse

ACTIVITY = {"type": "Create", "id": "https://gapo.test/a/1", "cc": [], "object": {"tag": []}}


def payload(inbox: str, activity: dict[str, object] = ACTIVITY, signer: int = 7) -> str:
    return json.dumps(
        {"inbox": inbox, "activity": activity, "signer": signer}, separators=(",", ":")
    )


def test_the_cache_gives_each_job_its_own_inbox_and_the_same_body() -> None:
    reader = PayloadReader()
    first = reader.read(payload("https://a.example/inbox"))
    second = reader.read(payload("https://b.example/inbox"))
    assert (first.inbox, second.inbox) == ("https://a.example/inbox", "https://b.example/inbox")
    assert first.body is second.body  # parsed and serialised once
    assert json.loads(first.body) == {"type": "Create", "id": "https://gapo.test/a/1", "object": {}}
    assert second.signer == 7


def test_another_activity_or_signer_is_parsed_afresh() -> None:
    reader = PayloadReader()
    reader.read(payload("https://a.example/inbox"))
    other = reader.read(payload("https://a.example/inbox", {**ACTIVITY, "id": "x"}, signer=8))
    assert json.loads(other.body)["id"] == "x" and other.signer == 8


def test_a_second_inbox_key_is_never_served_from_the_cache() -> None:
    reader = PayloadReader()
    text = '{"inbox":"https://a.example/inbox","activity":{"type":"Note"},"signer":1,"inbox":"https://b.example/inbox"}'
    assert reader.read(text).inbox == json.loads(text)["inbox"]
    again = text.replace("a.example", "c.example", 1)
    assert reader.read(again).inbox == "https://b.example/inbox"


def test_a_malformed_payload_is_refused() -> None:
    with pytest.raises(MalformedPayload):
        parse('{"inbox": "https://a.example/inbox"}')
    with pytest.raises(MalformedPayload):
        PayloadReader().read("not json")
