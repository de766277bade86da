"""Every document other servers put on the wire parses with the parser its type calls for.

The documents live in ``tests/fixtures/`` (see its README: captured, never edited).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activitypub.vocab import (
    ACTOR_CONTEXT,
    AS_CONTEXT,
    PUBLIC,
    SECURITY_CONTEXT,
    Activity,
    Actor,
    CollectionView,
    GenericObject,
    Note,
    VocabError,
    as_list,
    classify,
    id_of,
    ids_of,
    is_public,
    key_for,
    origin_of,
    parse_activity,
    parse_actor,
    parse_collection,
    parse_datetime,
    parse_note,
    parse_object,
    parse_public_keys,
    visibility_of,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The folder tests/fixtures/webfinger/ belongs to the WebFinger tests; it holds
# copies of documents that are also in the per-server folders.
DOCUMENTS = sorted(
    p
    for p in FIXTURES.rglob("*.json")
    if p.relative_to(FIXTURES).parts[0] != "webfinger" and "-" in p.name
)

# Actors the fediverse would not accept either: with no inbox nobody can
# follow or address them. Their keys are still readable (parse_public_keys).
ACTORS_WITHOUT_INBOX = {
    "fedify/actor-person-two-keys.json",  # a key-handling test actor
    "gotosocial/actor-person-dumpsterqueer.json",  # trimmed to id and key
}


def load(name: str) -> dict[str, Any]:
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_fixture_set_is_present() -> None:
    assert (FIXTURES / "README.md").is_file()
    assert len(DOCUMENTS) > 200


def _parse_nested(value: Any) -> None:
    """Embedded objects (a Create's Note, an Announce's Create…) must parse too.

    The one allowed failure is an actor stub (Mastodon's Delete of an actor
    embeds ``{id, type}`` only): not an actor one could follow, and refused so.
    """
    for entry in as_list(value):
        if isinstance(entry, dict) and entry.get("type") and entry.get("id"):
            try:
                parse_object(entry)
            except VocabError:
                assert classify(entry) == "actor" and "inbox" not in entry


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_parses_with_the_parser_of_its_kind(path: Path) -> None:
    name = str(path.relative_to(FIXTURES))
    doc = json.loads(path.read_text(encoding="utf-8"))
    kind = path.name.split("-", 1)[0]
    found = classify(doc)
    if name in ACTORS_WITHOUT_INBOX:
        assert found == "actor"
        with pytest.raises(VocabError, match="inbox"):
            parse_actor(doc)
        assert parse_public_keys(doc)
        return
    if kind in {"actor", "note", "activity", "collection"}:
        assert found == kind, f"{name}: classified as {found}"
    elif kind == "object":
        assert found in {"note", "other"}
    else:  # webfinger, nodeinfo: not ActivityStreams at all
        assert found == "other"

    result = parse_object(doc)
    if found == "actor":
        assert isinstance(result, Actor)
        assert result is not None and parse_actor(doc) == result
        assert result.inbox
    elif found == "note":
        assert isinstance(result, Note) and parse_note(doc) == result
        assert isinstance(result.content, str)
        visibility_of(result.to, result.cc, None)
    elif found == "activity":
        assert isinstance(result, Activity) and parse_activity(doc) == result
        assert result.actor
        _parse_nested(result.object)
    elif found == "collection":
        assert isinstance(result, CollectionView) and parse_collection(doc) == result
        _parse_nested(result.items)
        if isinstance(result.first, dict):
            parse_collection(result.first)
    else:
        assert isinstance(result, GenericObject)


# -- targeted assertions --------------------------------------------------------


def test_mastodon_actor_fields() -> None:
    actor = parse_actor(load("mastodon/actor-person-gargron.json"))
    assert actor.id == "https://mastodon.social/users/Gargron"
    assert actor.type == "Person"
    assert actor.preferred_username == "Gargron"
    assert actor.name == "Eugen Rochko"
    assert actor.url == "https://mastodon.social/@Gargron"
    assert actor.inbox == "https://mastodon.social/users/Gargron/inbox"
    assert actor.shared_inbox == "https://mastodon.social/inbox"
    assert actor.featured == "https://mastodon.social/users/Gargron/collections/featured"
    assert actor.discoverable is True
    assert actor.manually_approves_followers is False
    assert actor.also_known_as == ("https://tooting.ai/users/Gargron",)
    assert actor.moved_to is None
    assert actor.icon_url and actor.icon_url.startswith("https://files.mastodon.social/")
    assert actor.published == parse_datetime("2016-03-16T00:00:00Z")
    assert [name for name, _ in actor.fields] == ["Patreon", "GitHub"]
    (key,) = actor.public_keys
    assert key.id == "https://mastodon.social/users/Gargron#main-key"
    assert key.owner == actor.id
    assert key.pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert key_for(actor, key.id) == key
    assert key_for(actor, actor.id) == key  # keyId = actor id, one key
    assert key_for(actor, "https://mastodon.social/users/Gargron#other") is None


def test_misskey_actor_and_quote() -> None:
    actor = parse_actor(load("misskey/actor-person-syuilo.json"))
    assert actor.preferred_username == "syuilo"
    assert actor.shared_inbox == "https://misskey.io/inbox"
    assert actor.public_keys[0].id == "https://misskey.io/users/7rkrarq81i#main-key"
    assert actor.fields and actor.fields[0][1].startswith("<a href=")

    note = parse_note(load("misskey/note-quote.json"))
    assert note.quote_url == "https://misskey.io/notes/8vs6wxufd0"
    assert note.in_reply_to is None
    assert visibility_of(note.to, note.cc, f"{actor.id}/followers") == "public"

    fedibird = parse_note(load("fedibird/note-quote-post.json"))
    assert fedibird.quote_url == "https://misskey.io/notes/8vsn2izjwh"  # spelled quoteURL


def test_gotosocial_note_with_single_tag_and_string_addressing() -> None:
    note = parse_note(load("gotosocial/note-mentions.json"))
    assert note.attributed_to == "http://localhost:8080/users/admin"
    assert note.mentions[0].href == "http://localhost:8080/users/the_mighty_zork"
    assert note.language == "en"
    assert note.replies_id == (
        "http://localhost:8080/users/admin/statuses/01FF25D5Q0DH7CHD57CTRS6WK0/replies"
    )
    assert visibility_of(note.to, note.cc, "http://localhost:8080/users/admin/followers") == (
        "public"
    )

    create = parse_activity(load("gotosocial/activity-create-object-id-only.json"))
    assert isinstance(create.object, str) and create.object_id == create.object
    assert len(create.to) == 1 and len(create.cc) == 1  # both were bare strings

    moved = parse_actor(load("gotosocial/actor-person-moved.json"))
    assert moved.moved_to and moved.also_known_as


def test_pleroma_note_null_sensitive_and_followers_only() -> None:
    note = parse_note(load("pleroma/note-hacktivis.json"))
    assert note.sensitive is False  # "sensitive": null
    assert note.summary is None  # "summary": "" is no content warning
    assert note.content == "Have what?"
    assert note.in_reply_to == "https://enterprise.lemmy.ml/post/55143"
    assert note.mentions[0].name == "@popolon@pleroma.popolon.org"
    followers = "https://queer.hacktivis.me/users/lanodan/followers"
    # Public only in cc: unlisted.
    assert visibility_of(note.to, note.cc, followers) == "unlisted"
    assert note.published is not None and abs(note.published - 1633630012.5555) < 1e-3


def test_fedify_multikey_only_actor() -> None:
    actor = parse_actor(load("fedify/actor-person-multikey-only.json"))
    (key,) = actor.public_keys
    assert key.id == "https://server.example/users/alice#ed25519-key"
    assert key.owner == actor.id
    assert key.pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert key_for(actor, key.id) == key
    assert actor.shared_inbox is None and actor.followers is None


def test_two_key_actor_and_bare_key_document() -> None:
    keys = parse_public_keys(load("fedify/actor-person-two-keys.json"))
    ids = [k.id for k in keys]
    # Two publicKey entries, plus the RSA Multikey under its (misspelt) own id;
    # the Ed25519 Multikey repeats #key4 and is kept once.
    assert ids == [
        "https://example.com/person2#key3",
        "https://example.com/person2#key4",
        "https://example.com/peson2#key3",
    ]
    assert keys[1].pem == keys[1].pem.strip() + "\n"
    (bare,) = parse_public_keys(load("gotosocial/object-public-key.json"))
    assert bare.owner == "https://gts.superseriousbusiness.org/users/dumpsterqueer"


def test_contentmap_only_and_list_shapes() -> None:
    create = parse_activity(load("mastodon/activity-create-note-contentmap.json"))
    note = parse_note(create.object)
    assert "content" not in create.object
    assert note.content and note.content == next(iter(note.content_map.values()))

    video = parse_note(load("peertube/object-video-tilvids.json"))
    assert video.type == "Video"
    assert video.attributed_to == "https://tilvids.com/accounts/thelinuxexperiment"
    assert video.language == "en"  # {identifier, name}
    assert video.url == "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1"

    bridgy = parse_actor(load("bridgy-fed/actor-person.json"))  # icon is a list
    assert bridgy.icon_url

    owncast = parse_note(load("owncast/note-with-attachment.json"))  # one attachment object
    assert len(owncast.attachments) == 1

    kroeg = parse_activity(load("kroeg/activity-create-note-single-hashtag.json"))
    assert parse_note(kroeg.object).hashtags  # tag is one object

    prismo = parse_activity(load("prismo/activity-create-article.json"))  # actor is a list
    assert prismo.actor.startswith("https://prismo.news/")


def test_mastodon_attachment_and_announce() -> None:
    note = parse_note(load("mastodon/note-with-attachment.json"))
    (attachment,) = note.attachments
    assert attachment.media_type == "image/jpeg"
    assert attachment.url.endswith(".jpg")

    announce = parse_activity(load("mastodon/activity-announce.json"))
    assert announce.type == "Announce" and isinstance(announce.object, str)

    accept = parse_activity(load("mastodon/activity-accept-follow-embedded.json"))
    assert isinstance(accept.object, dict) and accept.object["type"] == "Follow"
    assert accept.object_id == accept.object["id"]


def test_collections() -> None:
    followers = parse_collection(load("mastodon/collection-followers.json"))
    assert isinstance(followers.first, str)
    total, first, items, next_page = parse_collection(load("pleroma/collection-followers.json"))
    assert isinstance(first, dict) and items == [] and next_page is None
    assert total is None or total >= 0
    outbox = parse_collection(load("gotosocial/collection-outbox-page.json"))
    assert outbox.items
    with pytest.raises(VocabError):
        parse_collection({"type": "Note", "id": "https://a.example/1"})


# -- helpers ----------------------------------------------------------------------


def test_value_helpers() -> None:
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(["a"]) == ["a"]
    assert id_of("https://a.example/1") == "https://a.example/1"
    assert id_of({"id": "https://a.example/1"}) == "https://a.example/1"
    assert id_of({"type": "Link", "href": "https://a.example/2"}) == "https://a.example/2"
    assert id_of([{"name": "x"}, "https://a.example/3"]) == "https://a.example/3"
    assert id_of(None) is None and id_of(3) is None
    assert ids_of(["https://a.example/1", {"id": "https://a.example/1"}, {"x": 1}]) == [
        "https://a.example/1"
    ]
    assert all(is_public(p) for p in (PUBLIC, "as:Public", "Public"))
    assert not is_public("https://a.example/followers")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", 1704164645.0),
        ("2024-01-02T03:04:05.250Z", 1704164645.25),
        ("2024-01-02T03:04:05+00:00", 1704164645.0),
        ("2024-01-02T05:04:05+0200", 1704164645.0),
        ("2024-01-02T03:04:05", 1704164645.0),  # no zone: taken as UTC
        ("2024-01-02 03:04:05.123456789Z", 1704164645.123456),
        ("2024-01-02", 1704153600.0),
        ("yesterday", None),
        ("2024-13-02T00:00:00Z", None),
        (None, None),
        (17, None),
    ],
)
def test_parse_datetime(text: Any, expected: float | None) -> None:
    got = parse_datetime(text)
    if expected is None:
        assert got is None
    else:
        assert got is not None and abs(got - expected) < 1e-6


def test_origin_of() -> None:
    assert origin_of("HTTPS://Example.COM:443/a?b") == "https://example.com"
    assert origin_of("http://example.com:8080/x") == "http://example.com:8080"
    assert origin_of("http://[::1]:80/") == "http://[::1]"
    with pytest.raises(ValueError):
        origin_of("/relative/path")


def test_visibility_rules() -> None:
    followers = "https://a.example/users/u/followers"
    bob = "https://b.example/users/bob"
    assert visibility_of([PUBLIC], [followers], followers) == "public"
    assert visibility_of("as:Public", None, followers) == "public"
    assert visibility_of([followers], ["Public"], followers) == "unlisted"
    assert visibility_of([followers], [bob], followers) == "followers"
    assert visibility_of([bob], [], followers) == "direct"
    assert visibility_of([bob], [], None) == "direct"


def test_actor_requirements() -> None:
    base = {"id": "https://a.example/u", "type": "Person", "inbox": "https://a.example/u/inbox"}
    assert parse_actor(base).type == "Person"
    for missing in ("id", "type", "inbox"):
        with pytest.raises(VocabError):
            parse_actor({k: v for k, v in base.items() if k != missing})
    with pytest.raises(VocabError):
        parse_actor({**base, "type": "Note"})
    # A key naming another owner is listed but never chosen for this actor.
    foreign = {
        **base,
        "publicKey": {
            "id": "https://a.example/u#k",
            "owner": "https://z.example/x",
            "publicKeyPem": "P",
        },
    }
    assert key_for(parse_actor(foreign), "https://a.example/u#k") is None


def test_contexts() -> None:
    assert ACTOR_CONTEXT[0] == AS_CONTEXT and ACTOR_CONTEXT[1] == SECURITY_CONTEXT
    terms = ACTOR_CONTEXT[2]
    assert terms["toot"] == "http://joinmastodon.org/ns#"
    assert terms["schema"] == "http://schema.org#"
    for term in (
        "discoverable",
        "featured",
        "blurhash",
        "focalPoint",
        "indexable",
        "manuallyApprovesFollowers",
        "sensitive",
        "Hashtag",
        "PropertyValue",
        "value",
    ):
        assert term in terms
