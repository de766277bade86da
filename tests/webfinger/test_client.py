"""The WebFinger client: handles, JRD and host-meta parsing of real documents, and resolving.

Network I/O is faked with dictionaries of documents keyed by URL, which also records every
request so the tests can hold the client to its bound (≤ 2 JRD fetches, 1 actor fetch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from webfinger.client import (
    WebFingerError,
    expand_lrdd,
    is_activitypub_media_type,
    parse_handle,
    parse_host_meta,
    parse_host_meta_json,
    parse_jrd,
    resolve,
    resolve_actor,
    webfinger_url,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webfinger"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


class FakeNet:
    """Stands in for the fetch layer: documents by URL, a LookupError (a "404") otherwise."""

    def __init__(
        self,
        jrds: dict[str, Any] | None = None,
        actors: dict[str, Any] | None = None,
    ) -> None:
        self.jrds = jrds or {}
        self.actors = actors or {}
        self.jrd_calls: list[str] = []
        self.actor_calls: list[str] = []

    async def get_jrd(self, url: str) -> dict[str, Any]:
        self.jrd_calls.append(url)
        if url not in self.jrds:
            raise LookupError(f"404 for {url}")
        document: dict[str, Any] = self.jrds[url]
        return document

    async def get_actor(self, url: str) -> dict[str, Any]:
        self.actor_calls.append(url)
        if url not in self.actors:
            raise LookupError(f"404 for {url}")
        document: dict[str, Any] = self.actors[url]
        return document

    async def resolve(self, query: str, scheme: str = "https") -> str:
        return await resolve(query, get_jrd=self.get_jrd, get_actor=self.get_actor, scheme=scheme)

    def within_bounds(self) -> bool:
        return len(self.jrd_calls) <= 2 and len(self.actor_calls) <= 1


def wf(acct: str, scheme: str = "https") -> str:
    name, host = acct.split("@")
    return webfinger_url(name, host, scheme=scheme)


def jrd(
    subject: str | None, self_href: str | None, media_type: str = "application/activity+json"
) -> dict[str, Any]:
    links: list[dict[str, Any]] = []
    if self_href is not None:
        links.append({"rel": "self", "type": media_type, "href": self_href})
    document: dict[str, Any] = {"links": links}
    if subject is not None:
        document["subject"] = subject
    return document


def person(actor_id: str, username: str, kind: str = "Person") -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor_id,
        "type": kind,
        "preferredUsername": username,
        "inbox": f"{actor_id}/inbox",
    }


# --- handles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice@example.com", ("alice", "example.com")),
        ("alice@example.com", ("alice", "example.com")),
        ("acct:alice@example.com", ("alice", "example.com")),
        ("ACCT:alice@example.com", ("alice", "example.com")),
        ("  @Alice@Example.COM ", ("Alice", "example.com")),
        ("bob@127.0.0.1:8001", ("bob", "127.0.0.1:8001")),
        ("@bob@localhost:8001", ("bob", "localhost:8001")),
        ("carol@[::1]:8001", ("carol", "[::1]:8001")),
        ("dave@bücher.example", ("dave", "xn--bcher-kva.example")),
        ("dave@BÜCHER.example", ("dave", "xn--bcher-kva.example")),
        ("erin@example.com.", ("erin", "example.com")),
        ("lemmy_support@lemmy.ml", ("lemmy_support", "lemmy.ml")),
        ("first.last@my-host.example", ("first.last", "my-host.example")),
        # refused
        ("", None),
        ("alice", None),
        ("@alice", None),
        ("alice@", None),
        ("@example.com", None),
        ("alice@example.com@other.example", None),
        ("alice@exa mple.com", None),
        ("alice@example.com/path", None),
        ("alice@example.com:0", None),
        ("alice@example.com:99999", None),
        ("alice@example.com:http", None),
        ("al ice@example.com", None),
        ("al/ice@example.com", None),
        ("alice@-bad-.example", None),
        ("alice@exa..mple", None),
        ("alice@[::1", None),
        ("https://example.com/@alice", None),
        ("a@" + "x" * 400 + ".example", None),
    ],
)
def test_parse_handle(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_handle(text) == expected


def test_webfinger_url() -> None:
    assert webfinger_url("alice", "example.com") == (
        "https://example.com/.well-known/webfinger?resource=acct:alice@example.com"
    )
    assert webfinger_url("bob", "127.0.0.1:8001", scheme="http") == (
        "http://127.0.0.1:8001/.well-known/webfinger?resource=acct:bob@127.0.0.1:8001"
    )
    # Characters that would change the query's meaning are encoded.
    assert webfinger_url("a&b", "example.com").endswith("resource=acct:a%26b@example.com")


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/activity+json", True),
        ("Application/Activity+JSON", True),
        ("application/activity+json; charset=utf-8", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/ld+json;profile=https://www.w3.org/ns/activitystreams", True),
        (
            'application/ld+json; profile="https://example.org/x https://www.w3.org/ns/activitystreams"',
            True,
        ),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/json", False),
        ("text/html", False),
        ("", False),
    ],
)
def test_activitypub_media_types(media_type: str, expected: bool) -> None:
    assert is_activitypub_media_type(media_type) is expected


# --- real documents ----------------------------------------------------------------------

JRD_FIXTURES = {
    "friendica-webfinger-lain-squeet-me.json": (
        "acct:lain@squeet.me",
        "https://squeet.me/profile/lain",
    ),
    "funkwhale-webfinger-greensky.json": (
        "acct:Greensky@open.audio",
        "https://open.audio/federation/actors/Greensky",
    ),
    "gancio-webfinger-demo-gancio.json": (
        "acct:gancio@demo.gancio.org",
        "https://demo.gancio.org/federation/u/gancio",
    ),
    "gnusocial-webfinger-administrator.json": (
        "acct:administrator@gnusocial.net",
        "https://gnusocial.net/index.php/user/1",
    ),
    "hubzilla-webfinger-kaniini-gerzilla.json": (
        "acct:kaniini",
        "https://gerzilla.de/channel/kaniini",
    ),
    "hubzilla-webfinger-scott.json": (
        "acct:scott@authorship.studio",
        "https://authorship.studio/channel/scott",
    ),
    "lemmy-webfinger-lemmy-support.json": (
        "acct:lemmy_support@lemmy.ml",
        "https://lemmy.ml/c/lemmy_support",
    ),
    "mastodon-webfinger-gargron.json": (
        "acct:Gargron@mastodon.social",
        "https://mastodon.social/users/Gargron",
    ),
    "microblog-webfinger-manton.json": (
        "acct:manton@manton.org",
        "https://manton.org/activitypub/manton",
    ),
    "misskey-webfinger-syuilo.json": (
        "acct:syuilo@misskey.io",
        "https://misskey.io/users/7rkrarq81i",
    ),
    "mobilizon-webfinger-framasoft.json": (
        "acct:framasoft@mobilizon.fr",
        "https://mobilizon.fr/@framasoft",
    ),
    "peertube-webfinger-framasoft.json": (
        "acct:framasoft@framatube.org",
        "https://framatube.org/accounts/framasoft",
    ),
    "pixelfed-webfinger-dansup.json": (
        "acct:dansup@pixelfed.social",
        "https://pixelfed.social/users/dansup",
    ),
    "pleroma-webfinger-karolat.json": (
        "acct:karolat@stereophonic.space",
        "https://stereophonic.space/users/karolat",
    ),
    "plume-webfinger-actapopuli.json": (
        "acct:actapopuli@fediverse.blog",
        "https://fediverse.blog/@/actapopuli/",
    ),
    "streams-webfinger-mike.json": (
        "acct:mike@macgirvin.com",
        "https://macgirvin.com/channel/mike",
    ),
    "threads-webfinger-mosseri.json": (
        "acct:mosseri@threads.net",
        "https://www.threads.net/ap/users/mosseri/",
    ),
    "wordpress-webfinger-tobias.json": (
        "acct:tobias@friendi.ca",
        "https://friendi.ca/author/tobias/",
    ),
    "writefreely-webfinger-matt.json": (
        "acct:matt@write.as",
        "https://write.as/api/collections/matt",
    ),
}


def test_every_jrd_fixture_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*webfinger*.json")} == set(JRD_FIXTURES)


@pytest.mark.parametrize(("name", "expected"), sorted(JRD_FIXTURES.items()))
def test_parse_jrd_fixtures(name: str, expected: tuple[str, str]) -> None:
    parsed = parse_jrd(load(name))
    assert (parsed.subject, parsed.self_href) == expected


def test_parse_jrd_details() -> None:
    lain = parse_jrd(load("friendica-webfinger-lain-squeet-me.json"))
    assert lain.aliases == ("https://squeet.me/~lain", "https://squeet.me/profile/lain")
    assert lain.profile_page == "https://squeet.me/profile/lain"
    assert lain.subscribe_template == "https://squeet.me/follow?url={uri}"
    # Profile-page rels as spelled in the wild: trailing slash (Mobilizon), https (WriteFreely).
    assert parse_jrd(load("mobilizon-webfinger-framasoft.json")).profile_page == (
        "https://mobilizon.fr/@framasoft"
    )
    assert (
        parse_jrd(load("writefreely-webfinger-matt.json")).profile_page == "https://write.as/matt/"
    )
    # Lemmy sends explicit nulls; no aliases at all is fine.
    lemmy = parse_jrd(load("lemmy-webfinger-lemmy-support.json"))
    assert lemmy.aliases == ()
    assert lemmy.subscribe_template is None


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"subject": 42, "aliases": "nope", "links": "nope"},
        {
            "links": [
                None,
                1,
                "x",
                {"rel": "self"},
                {"rel": "self", "type": "application/activity+json"},
            ]
        },
        {
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": "javascript:alert(1)"}
            ]
        },
        {"links": [{"rel": "self", "type": "text/html", "href": "https://example.com/@a"}]},
        {"links": [{"rel": ["self"], "type": {}, "href": "https://example.com/a"}]},
        {"links": [{"rel": {"x": 1}, "href": "https://example.com/a"}]},
    ],
)
def test_parse_jrd_tolerates_junk(document: dict[str, Any]) -> None:
    parsed = parse_jrd(document)
    assert parsed.self_href is None


HOST_META_FIXTURES = {
    "friendica-hostmeta-squeet-me.xml": "https://squeet.me/.well-known/webfinger?resource={uri}",
    "gancio-hostmeta-demo-gancio.xml": "https://demo.gancio.org/.well-known/webfinger?resource={uri}",
    "gnusocial-hostmeta-heldscal-la.xml": (
        "https://social.heldscal.la/.well-known/webfinger?resource={uri}"
    ),
    "hubzilla-hostmeta-gerzilla-de.xml": "https://gerzilla.de/xrd/?uri={uri}",
    "mastodon-hostmeta-social-tcit-fr.xml": (
        "https://social.tcit.fr/.well-known/webfinger?resource={uri}"
    ),
    "peertube-hostmeta-framatube.xml": "https://framatube.org/.well-known/webfinger?resource={uri}",
    "pleroma-hostmeta-pleroma-soykaf.xml": (
        "https://pleroma.soykaf.com/.well-known/webfinger?resource={uri}"
    ),
}


def test_every_host_meta_fixture_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*hostmeta*.xml")} == set(HOST_META_FIXTURES)


@pytest.mark.parametrize(("name", "expected"), sorted(HOST_META_FIXTURES.items()))
def test_parse_host_meta_fixtures(name: str, expected: str) -> None:
    assert parse_host_meta((FIXTURES / name).read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not xml",
        "<XRD/>",
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" href="x"/></XRD>',
        # A DTD is refused before parsing: no entity expansion, no external entities.
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><XRD><Link rel="lrdd" '
        'template="https://e.example/?r={uri}&a;"/></XRD>',
    ],
)
def test_parse_host_meta_refuses(text: str) -> None:
    assert parse_host_meta(text) is None


def test_parse_host_meta_json_and_expand() -> None:
    template = parse_host_meta_json(
        {
            "links": [
                {"rel": "lrdd", "type": "application/xrd+xml", "template": "https://h/x?uri={uri}"},
                {
                    "rel": "lrdd",
                    "type": "application/jrd+json",
                    "template": "https://h/j?uri={uri}",
                },
            ]
        }
    )
    assert template == "https://h/j?uri={uri}"
    assert parse_host_meta_json({"links": "nope"}) is None
    assert expand_lrdd("https://h/j?uri={uri}", "acct:a@h") == "https://h/j?uri=acct%3Aa%40h"


# --- resolving handles -------------------------------------------------------------------


GARGRON = "https://mastodon.social/users/Gargron"


def gargron_net() -> FakeNet:
    return FakeNet(
        jrds={wf("Gargron@mastodon.social"): load("mastodon-webfinger-gargron.json")},
        actors={GARGRON: person(GARGRON, "Gargron")},
    )


async def test_round_trip_in_one_lookup() -> None:
    net = gargron_net()
    assert await net.resolve("@Gargron@mastodon.social") == GARGRON
    # The actor's handle is the one asked for, so its JRD already proves the round trip.
    assert net.jrd_calls == [wf("Gargron@mastodon.social")]
    assert net.actor_calls == [GARGRON]


async def test_handle_case_does_not_matter() -> None:
    net = gargron_net()
    net.jrds[wf("gargron@mastodon.social")] = net.jrds[wf("Gargron@mastodon.social")]
    resolved = await resolve_actor(
        "acct:gargron@MASTODON.social", get_jrd=net.get_jrd, get_actor=net.get_actor
    )
    assert resolved.actor_id == GARGRON
    assert resolved.acct == "Gargron@mastodon.social"  # as the server spells it
    assert resolved.actor["preferredUsername"] == "Gargron"
    assert len(net.jrd_calls) == 1


async def test_friendica_fixture_resolves() -> None:
    lain = "https://squeet.me/profile/lain"
    net = FakeNet(
        jrds={wf("lain@squeet.me"): load("friendica-webfinger-lain-squeet-me.json")},
        actors={lain: person(lain, "lain")},
    )
    assert await net.resolve("lain@squeet.me") == lain
    assert net.within_bounds()


async def test_jrd_with_only_ld_json_self_link() -> None:
    # Hubzilla: the self link is typed `application/ld+json; profile=…` and the subject
    # has no host; both must be understood.
    kaniini = "https://gerzilla.de/channel/kaniini"
    net = FakeNet(
        jrds={wf("kaniini@gerzilla.de"): load("hubzilla-webfinger-kaniini-gerzilla.json")},
        actors={kaniini: person(kaniini, "kaniini")},
    )
    resolved = await resolve_actor(
        "@kaniini@gerzilla.de", get_jrd=net.get_jrd, get_actor=net.get_actor
    )
    assert resolved.actor_id == kaniini
    assert resolved.acct == "kaniini@gerzilla.de"
    assert net.jrd_calls == [wf("kaniini@gerzilla.de")]


async def test_mismatched_preferred_username_is_refused() -> None:
    alice = "https://a.example/users/alice"
    net = FakeNet(
        jrds={
            wf("alice@a.example"): jrd("acct:alice@a.example", alice),
            wf("mallory@a.example"): jrd(
                "acct:mallory@a.example", "https://a.example/users/mallory"
            ),
        },
        actors={alice: person(alice, "mallory")},
    )
    with pytest.raises(WebFingerError, match="does not point back"):
        await net.resolve("alice@a.example")
    assert net.within_bounds()


async def test_round_trip_lookup_failing_is_refused() -> None:
    alice = "https://a.example/users/alice"
    net = FakeNet(
        jrds={wf("alice@a.example"): jrd("acct:alice@a.example", alice)},
        actors={alice: person(alice, "nobody")},
    )
    with pytest.raises(WebFingerError, match="could not fetch the JRD") as caught:
        await net.resolve("alice@a.example")
    assert isinstance(caught.value.__cause__, LookupError)


async def test_foreign_host_pointing_at_someone_elses_actor() -> None:
    # evil.example may point its handle at Gargron, but the answer is then Gargron under
    # the handle mastodon.social vouches for, never "eve@evil.example".
    net = gargron_net()
    net.jrds[wf("eve@evil.example")] = jrd("acct:eve@evil.example", GARGRON)
    resolved = await resolve_actor("eve@evil.example", get_jrd=net.get_jrd, get_actor=net.get_actor)
    assert resolved.actor_id == GARGRON
    assert resolved.acct == "Gargron@mastodon.social"
    assert net.within_bounds()


async def test_actor_on_a_host_that_does_not_vouch_for_it() -> None:
    # b.example hosts the actor but says its preferredUsername is someone else.
    bob = "https://b.example/users/bob"
    net = FakeNet(
        jrds={
            wf("bob@a.example"): jrd("acct:bob@a.example", bob),
            wf("bob@b.example"): jrd("acct:bob@b.example", "https://b.example/users/robert"),
        },
        actors={bob: person(bob, "bob")},
    )
    with pytest.raises(WebFingerError, match="does not point back"):
        await net.resolve("bob@a.example")


async def test_subject_on_another_domain_queried_at_the_web_domain() -> None:
    # Mastodon with LOCAL_DOMAIN=example.com and WEB_DOMAIN=social.example.com.
    alice = "https://social.example.com/users/alice"
    net = FakeNet(
        jrds={
            wf("alice@social.example.com"): jrd("acct:alice@example.com", alice),
            wf("alice@example.com"): jrd("acct:alice@example.com", alice),
        },
        actors={alice: person(alice, "alice")},
    )
    resolved = await resolve_actor(
        "@alice@social.example.com", get_jrd=net.get_jrd, get_actor=net.get_actor
    )
    assert resolved.actor_id == alice
    assert resolved.acct == "alice@example.com"
    assert net.jrd_calls == [wf("alice@social.example.com"), wf("alice@example.com")]
    assert net.actor_calls == [alice]


async def test_subject_on_another_domain_queried_at_the_account_domain() -> None:
    alice = "https://social.example.com/users/alice"
    net = FakeNet(
        jrds={
            wf("alice@example.com"): jrd("acct:alice@example.com", alice),
            wf("alice@social.example.com"): jrd("acct:alice@example.com", alice),
        },
        actors={alice: person(alice, "alice")},
    )
    resolved = await resolve_actor(
        "alice@example.com", get_jrd=net.get_jrd, get_actor=net.get_actor
    )
    assert resolved.actor_id == alice
    assert resolved.acct == "alice@example.com"
    assert net.jrd_calls == [wf("alice@example.com"), wf("alice@social.example.com")]


async def test_subject_pointing_at_another_actor_is_refused() -> None:
    alice = "https://social.example.com/users/alice"
    net = FakeNet(
        jrds={
            wf("alice@social.example.com"): jrd("acct:alice@example.com", alice),
            wf("alice@example.com"): jrd("acct:alice@example.com", "https://other.example/u/a"),
        },
        actors={alice: person(alice, "alice")},
    )
    with pytest.raises(WebFingerError, match="points at another actor"):
        await net.resolve("alice@social.example.com")
    assert net.actor_calls == []


async def test_lookups_stay_bounded() -> None:
    # Every JRD names yet another account as its subject: the client stops at two.
    actor = "https://c.example/users/x"
    net = FakeNet(
        jrds={
            wf("x@a.example"): jrd("acct:x@b.example", actor),
            wf("x@b.example"): jrd("acct:x@b.example", actor),
            wf("x@c.example"): jrd("acct:x@d.example", actor),
            wf("x@d.example"): jrd("acct:x@d.example", actor),
        },
        actors={actor: person(actor, "x")},
    )
    with pytest.raises(WebFingerError, match="more than 2 WebFinger lookups"):
        await net.resolve("x@a.example")
    assert len(net.jrd_calls) == 2
    assert net.within_bounds()


async def test_default_port_in_the_actor_id_is_the_same_host() -> None:
    alice = "https://a.example:443/users/alice"
    net = FakeNet(
        jrds={wf("alice@a.example"): jrd("acct:alice@a.example", alice)},
        actors={alice: person(alice, "alice")},
    )
    assert await net.resolve("alice@a.example") == alice
    assert net.jrd_calls == [wf("alice@a.example")]


async def test_http_scheme_and_port_for_local_testing() -> None:
    bob = "http://127.0.0.1:8001/users/bob"
    net = FakeNet(
        jrds={
            wf("bob@127.0.0.1:8001", scheme="http"): jrd("acct:bob@127.0.0.1:8001", bob),
        },
        actors={bob: person(bob, "bob")},
    )
    assert await net.resolve("@bob@127.0.0.1:8001", scheme="http") == bob
    assert net.jrd_calls == [
        "http://127.0.0.1:8001/.well-known/webfinger?resource=acct:bob@127.0.0.1:8001"
    ]


@pytest.mark.parametrize(
    ("jrd_document", "actor_document", "message"),
    [
        (jrd("acct:a@a.example", None), None, "no ActivityPub self link"),
        (
            jrd("acct:a@a.example", "https://a.example/a", media_type="text/html"),
            None,
            "no ActivityPub self link",
        ),
        (
            jrd("acct:a@a.example", "https://a.example/a"),
            {"id": "https://a.example/a", "type": "Note"},
            "is not an ActivityPub actor",
        ),
        (
            jrd("acct:a@a.example", "https://a.example/a"),
            {"id": "https://a.example/a", "type": [{"odd": "json"}], "preferredUsername": "a"},
            "is not an ActivityPub actor",
        ),
        (
            jrd("acct:a@a.example", "https://a.example/a"),
            person("https://elsewhere.example/a", "a"),
            "foreign id",
        ),
        (
            jrd("acct:a@a.example", "https://a.example/a"),
            {"id": "https://a.example/a", "type": "Person"},
            "no usable preferredUsername",
        ),
        (
            jrd("acct:a@a.example", "https://a.example/a"),
            person("https://a.example/a", "a b"),
            "no usable preferredUsername",
        ),
    ],
)
async def test_bad_documents_are_refused(
    jrd_document: dict[str, Any], actor_document: dict[str, Any] | None, message: str
) -> None:
    actors = {} if actor_document is None else {"https://a.example/a": actor_document}
    net = FakeNet(jrds={wf("a@a.example"): jrd_document}, actors=actors)
    with pytest.raises(WebFingerError, match=message):
        await net.resolve("a@a.example")


async def test_jrd_that_is_not_an_object() -> None:
    net = FakeNet(jrds={wf("a@a.example"): ["not", "a", "jrd"]})
    with pytest.raises(WebFingerError, match="not a JSON object"):
        await net.resolve("a@a.example")


@pytest.mark.parametrize("query", ["", "alice", "alice@", "ftp://example.com/alice", "a@b@c"])
async def test_malformed_queries_fetch_nothing(query: str) -> None:
    net = FakeNet()
    with pytest.raises(WebFingerError) as caught:
        await net.resolve(query)
    assert caught.value.reason
    assert net.jrd_calls == [] and net.actor_calls == []


# --- resolving URLs ------------------------------------------------------------------------


async def test_url_query_returns_the_actor_id() -> None:
    net = FakeNet(actors={GARGRON: person(GARGRON, "Gargron")})
    resolved = await resolve_actor(GARGRON, get_jrd=net.get_jrd, get_actor=net.get_actor)
    assert resolved.actor_id == GARGRON
    assert resolved.acct is None
    assert net.jrd_calls == []
    assert net.actor_calls == [GARGRON]


async def test_profile_url_is_confirmed_by_the_id() -> None:
    profile = "https://mastodon.social/@Gargron"
    net = FakeNet(actors={profile: person(GARGRON, "Gargron"), GARGRON: person(GARGRON, "Gargron")})
    assert await net.resolve(profile) == GARGRON
    assert net.actor_calls == [profile, GARGRON]


async def test_url_claiming_an_id_that_denies_it() -> None:
    url = "https://evil.example/actor"
    net = FakeNet(
        actors={
            url: person(GARGRON, "Gargron"),
            GARGRON: person("https://mastodon.social/users/someone-else", "x"),
        }
    )
    with pytest.raises(WebFingerError, match="denies it"):
        await net.resolve(url)


async def test_url_that_is_not_an_actor() -> None:
    note = "https://mastodon.social/users/Gargron/statuses/1"
    net = FakeNet(actors={note: {"id": note, "type": "Note", "content": "hi"}})
    with pytest.raises(WebFingerError, match="not an ActivityPub actor"):
        await net.resolve(note)


async def test_url_fetch_failure_is_wrapped() -> None:
    net = FakeNet()
    with pytest.raises(WebFingerError, match="could not fetch the actor"):
        await net.resolve("https://gone.example/users/x")
