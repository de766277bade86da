"""NodeInfo 2.0 and 2.1 documents (nodeinfo.diaspora.software): the discovery links and the body.

Pure builders; the instance supplies the counts and serves the results. The output keeps
to the published JSON schemas, which are strict (``additionalProperties: false``,
``software.name`` matching ``^[a-z0-9-]+$``), because crawlers validate against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

SCHEMA_BASE: Final = "http://nodeinfo.diaspora.software/ns/schema/"
VERSIONS: Final = ("2.0", "2.1")
# The `/.well-known/nodeinfo` links document is plain JSON.
LINKS_CONTENT_TYPE: Final = "application/json"

_SOFTWARE_NAME_RE = re.compile(r"[a-z0-9-]+")


def schema_url(version: str) -> str:
    """The ``rel`` of a version's link, e.g. ``http://nodeinfo.diaspora.software/ns/schema/2.1``."""
    _check_version(version)
    return SCHEMA_BASE + version


def _check_version(version: str) -> None:
    if version not in VERSIONS:
        raise ValueError(f"unsupported NodeInfo version {version!r}; known: {', '.join(VERSIONS)}")


def nodeinfo_links(base_url: str) -> dict[str, Any]:
    """The ``/.well-known/nodeinfo`` document, linking each version to ``{base}/nodeinfo/<v>``."""
    base = base_url.rstrip("/")
    return {
        "links": [{"rel": schema_url(v), "href": f"{base}/nodeinfo/{v}"} for v in VERSIONS],
    }


def nodeinfo_content_type(version: str) -> str:
    """The media type the schema asks for, with the version's profile."""
    return f'application/json; profile="{schema_url(version)}#"'


def nodeinfo_document(
    version: str,
    *,
    software_name: str,
    software_version: str,
    repository: str | None,
    homepage: str | None,
    users_total: int,
    users_active_month: int,
    users_active_halfyear: int,
    local_posts: int,
    open_registrations: bool,
    node_name: str,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The NodeInfo body for ``version`` ("2.0" or "2.1").

    ``repository`` and ``homepage`` appear only in 2.1: schema 2.0 forbids extra keys in
    ``software``. ``node_name`` goes to ``metadata.nodeName`` (where Mastodon and others put
    it) and wins over a ``nodeName`` in ``metadata``. Raises ValueError on an unknown
    version, a software name the schema would reject, or a negative count.
    """
    _check_version(version)
    if not _SOFTWARE_NAME_RE.fullmatch(software_name):
        raise ValueError(f"software name {software_name!r} must match ^[a-z0-9-]+$")
    counts = {
        "users_total": users_total,
        "users_active_month": users_active_month,
        "users_active_halfyear": users_active_halfyear,
        "local_posts": local_posts,
    }
    for label, count in counts.items():
        if count < 0:
            raise ValueError(f"{label} must not be negative (got {count})")

    software: dict[str, str] = {"name": software_name, "version": software_version}
    if version != "2.0":
        if repository is not None:
            software["repository"] = repository
        if homepage is not None:
            software["homepage"] = homepage
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": users_active_month,
                "activeHalfyear": users_active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": {**(metadata or {}), "nodeName": node_name},
    }
