"""WebFinger server documents: resource parsing, the JRD, host-meta in XML and JSON."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from webfinger.client import parse_host_meta, parse_host_meta_json, parse_jrd
from webfinger.server import (
    JRD_CONTENT_TYPE,
    build_jrd,
    host_meta_json,
    host_meta_xml,
    parse_resource,
)

HOST = "gapo.example"
BASE = "https://gapo.example"


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("acct:alice@gapo.example", "alice"),
        ("acct:alice@GAPO.Example", "alice"),
        ("ACCT:alice@gapo.example", "alice"),
        ("alice@gapo.example", "alice"),
        ("@alice@gapo.example", "alice"),
        ("acct:@alice@gapo.example", "alice"),
        ("  acct:alice@gapo.example  ", "alice"),
        ("acct:Alice@gapo.example", "alice"),
        ("acct:al%69ce@gapo.example", "alice"),  # RFC 7565 percent-encoded user part
        ("https://gapo.example/users/alice", "alice"),
        ("https://gapo.example/@alice", "alice"),
        ("HTTPS://GAPO.EXAMPLE/users/alice", "alice"),
        ("https://gapo.example:443/users/alice", "alice"),
        # not ours
        ("acct:alice@elsewhere.example", None),
        ("acct:alice@gapo.example.evil", None),
        ("http://gapo.example/users/alice", None),  # another scheme is another origin
        ("https://elsewhere.example/users/alice", None),
        ("https://gapo.example:8443/users/alice", None),
        # malformed
        ("", None),
        ("acct:", None),
        ("acct:@gapo.example", None),
        ("acct:alice", None),
        ("alice", None),
        ("acct:alice@", None),
        ("acct:al/ice@gapo.example", None),
        ("acct:al ice@gapo.example", None),
        ("https://gapo.example/users/alice/outbox", None),
        ("https://gapo.example/users/", None),
        ("https://gapo.example/@alice?x=1", None),
        ("https://gapo.example/@alice#main-key", None),
        ("https://gapo.example/alice", None),
        ("https://gapo.example:notaport/users/alice", None),
    ],
)
def test_parse_resource(resource: str, expected: str | None) -> None:
    assert parse_resource(resource, host=HOST, base_url=BASE) == expected


def test_parse_resource_with_a_port_in_the_host() -> None:
    base = "http://127.0.0.1:8001"
    host = "127.0.0.1:8001"
    assert parse_resource("acct:bob@127.0.0.1:8001", host=host, base_url=base) == "bob"
    assert parse_resource("acct:bob@127.0.0.1", host=host, base_url=base) is None
    assert parse_resource("http://127.0.0.1:8001/users/bob", host=host, base_url=base) == "bob"
    assert parse_resource("http://127.0.0.1:8002/users/bob", host=host, base_url=base) is None


def test_parse_resource_with_an_idn_host() -> None:
    host = "xn--bcher-kva.example"  # bücher.example
    base = f"https://{host}"
    assert parse_resource("acct:bob@bücher.example", host=host, base_url=base) == "bob"
    assert parse_resource("acct:bob@BÜCHER.example", host=host, base_url=base) == "bob"


def test_parse_resource_under_a_path_prefix() -> None:
    base = "https://gapo.example/social"
    assert parse_resource("https://gapo.example/social/@bob", host=HOST, base_url=base) == "bob"
    assert parse_resource("https://gapo.example/@bob", host=HOST, base_url=base) is None


def _jrd() -> dict[str, object]:
    return build_jrd(
        username="alice",
        host=HOST,
        actor_url=f"{BASE}/users/alice",
        profile_url=f"{BASE}/@alice",
    )


def test_build_jrd_shape() -> None:
    assert _jrd() == {
        "subject": "acct:alice@gapo.example",
        "aliases": ["https://gapo.example/@alice", "https://gapo.example/users/alice"],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://gapo.example/@alice",
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://gapo.example/users/alice",
            },
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": "https://gapo.example/authorize_interaction?uri={uri}",
            },
        ],
    }
    assert JRD_CONTENT_TYPE == "application/jrd+json"


def test_build_jrd_reads_back_with_our_client() -> None:
    parsed = parse_jrd(_jrd())
    assert parsed.subject == "acct:alice@gapo.example"
    assert parsed.self_href == "https://gapo.example/users/alice"
    assert parsed.profile_page == "https://gapo.example/@alice"
    assert parsed.subscribe_template == "https://gapo.example/authorize_interaction?uri={uri}"


def test_build_jrd_explicit_base_url() -> None:
    jrd = build_jrd(
        username="alice",
        host=HOST,
        actor_url=f"{BASE}/users/alice",
        profile_url=f"{BASE}/@alice",
        base_url="https://web.gapo.example/",
    )
    assert parse_jrd(jrd).subscribe_template == (
        "https://web.gapo.example/authorize_interaction?uri={uri}"
    )


def test_host_meta_xml_is_valid_xrd() -> None:
    text = host_meta_xml(BASE + "/")
    root = ElementTree.fromstring(text)  # noqa: S314 - our own output
    assert root.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}XRD"
    (link,) = list(root)
    assert link.get("rel") == "lrdd"
    assert link.get("template") == "https://gapo.example/.well-known/webfinger?resource={uri}"
    assert parse_host_meta(text) == "https://gapo.example/.well-known/webfinger?resource={uri}"


def test_host_meta_xml_escapes_the_base_url() -> None:
    text = host_meta_xml('https://gapo.example/a&b"c')
    assert (
        parse_host_meta(text) == 'https://gapo.example/a&b"c/.well-known/webfinger?resource={uri}'
    )


def test_host_meta_json() -> None:
    doc = host_meta_json(BASE)
    assert doc == {
        "links": [
            {"rel": "lrdd", "template": "https://gapo.example/.well-known/webfinger?resource={uri}"}
        ]
    }
    assert parse_host_meta_json(doc) == doc["links"][0]["template"]
