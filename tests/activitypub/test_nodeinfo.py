"""NodeInfo: the well-known links, the 2.0 and 2.1 bodies, and their content types."""

from __future__ import annotations

from typing import Any

import pytest

from activitypub.nodeinfo import (
    nodeinfo_content_type,
    nodeinfo_document,
    nodeinfo_links,
    schema_url,
)

# The keys each schema allows (both have `additionalProperties: false` at these levels).
TOP_KEYS = {
    "version",
    "software",
    "protocols",
    "services",
    "openRegistrations",
    "usage",
    "metadata",
}
SOFTWARE_KEYS = {"2.0": {"name", "version"}, "2.1": {"name", "version", "repository", "homepage"}}


def document(version: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "software_name": "gapo",
        "software_version": "0.1.0",
        "repository": "https://example.org/gapo.git",
        "homepage": "https://gapo.example.org",
        "users_total": 10,
        "users_active_month": 4,
        "users_active_halfyear": 7,
        "local_posts": 123,
        "open_registrations": True,
        "node_name": "Gapo test",
    }
    values.update(overrides)
    return nodeinfo_document(version, **values)


def test_links_document() -> None:
    assert nodeinfo_links("https://gapo.example/") == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://gapo.example/nodeinfo/2.0",
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://gapo.example/nodeinfo/2.1",
            },
        ]
    }


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_document_follows_the_schema(version: str) -> None:
    doc = document(version)
    assert set(doc) == TOP_KEYS
    assert doc["version"] == version
    assert set(doc["software"]) <= SOFTWARE_KEYS[version]
    assert doc["software"]["name"] == "gapo"
    assert doc["software"]["version"] == "0.1.0"
    assert doc["protocols"] == ["activitypub"]
    assert doc["services"] == {"inbound": [], "outbound": []}
    assert doc["openRegistrations"] is True
    assert doc["usage"] == {
        "users": {"total": 10, "activeMonth": 4, "activeHalfyear": 7},
        "localPosts": 123,
    }
    assert doc["metadata"] == {"nodeName": "Gapo test"}


def test_version_2_0_has_no_repository_or_homepage() -> None:
    assert document("2.0")["software"] == {"name": "gapo", "version": "0.1.0"}


def test_version_2_1_carries_repository_and_homepage_when_given() -> None:
    assert document("2.1")["software"] == {
        "name": "gapo",
        "version": "0.1.0",
        "repository": "https://example.org/gapo.git",
        "homepage": "https://gapo.example.org",
    }
    assert document("2.1", repository=None, homepage=None)["software"] == {
        "name": "gapo",
        "version": "0.1.0",
    }


def test_metadata_is_merged_and_node_name_wins() -> None:
    doc = document("2.1", metadata={"nodeDescription": "hi", "nodeName": "ignored"})
    assert doc["metadata"] == {"nodeDescription": "hi", "nodeName": "Gapo test"}


def test_closed_registrations() -> None:
    assert document("2.0", open_registrations=False)["openRegistrations"] is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"software_name": "Gapo"},  # schema: ^[a-z0-9-]+$
        {"software_name": "gapo social"},
        {"software_name": ""},
        {"users_total": -1},
        {"local_posts": -5},
    ],
)
def test_invalid_values_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        document("2.1", **overrides)


@pytest.mark.parametrize("version", ["1.0", "2.2", "", "2"])
def test_unknown_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="unsupported NodeInfo version"):
        document(version)
    with pytest.raises(ValueError):
        nodeinfo_content_type(version)


def test_content_types() -> None:
    assert nodeinfo_content_type("2.1") == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    assert nodeinfo_content_type("2.0") == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"'
    )
    assert schema_url("2.0") == "http://nodeinfo.diaspora.software/ns/schema/2.0"
