"""WebFinger server documents for a server-level actor named after the host."""

from __future__ import annotations

from webfinger.client import parse_jrd
from webfinger.server import build_application_jrd, parse_resource

HOST = "gapo.example"
BASE = "https://gapo.example"
NAMED = {"/actor": HOST}


def test_parse_resource_names_the_instance_actor() -> None:
    """The host as user part is just a name; a named path maps to its name."""
    assert parse_resource(f"acct:{HOST}@{HOST}", host=HOST, base_url=BASE) == HOST
    assert parse_resource(f"{BASE}/actor", host=HOST, base_url=BASE, named_paths=NAMED) == HOST
    assert parse_resource(f"{BASE}/actor", host=HOST, base_url=BASE) is None
    assert parse_resource(f"{BASE}/actor?x=1", host=HOST, base_url=BASE, named_paths=NAMED) is None
    assert (
        parse_resource(
            "https://elsewhere.example/actor", host=HOST, base_url=BASE, named_paths=NAMED
        )
        is None
    )
    # Under a path prefix, named paths are below it too.
    base = f"{BASE}/social"
    assert parse_resource(f"{base}/actor", host=HOST, base_url=base, named_paths=NAMED) == HOST
    assert parse_resource(f"{BASE}/actor", host=HOST, base_url=base, named_paths=NAMED) is None


def test_build_application_jrd_shape() -> None:
    jrd = build_application_jrd(
        name=HOST, host=HOST, actor_url=f"{BASE}/actor", profile_url=f"{BASE}/"
    )
    assert jrd == {
        "subject": "acct:gapo.example@gapo.example",
        "aliases": ["https://gapo.example/actor"],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://gapo.example/",
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://gapo.example/actor",
            },
        ],
    }
    parsed = parse_jrd(jrd)
    assert parsed.self_href == "https://gapo.example/actor"
    assert parsed.subscribe_template is None
    bare = build_application_jrd(name=HOST, host=HOST, actor_url=f"{BASE}/actor")
    assert [link["rel"] for link in bare["links"]] == ["self"]
