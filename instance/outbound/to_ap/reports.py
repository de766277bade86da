"""The Flag of a report forwarded to the reported account's server, in Mastodon's shape:
signed by the instance actor (never the reporter, whose name stays here), the account and
the reported posts as `object`, the comment as `content`."""

from __future__ import annotations

from typing import Any

from instance.outbound.to_ap import activity
from instance.urls import LocalUrls


def flag(
    urls: LocalUrls, report_id: int, target_ap_id: str, post_ap_ids: list[str], comment: str
) -> dict[str, Any]:
    doc = activity(
        "Flag",
        f"{urls.instance_actor}#reports/{report_id}",
        urls.instance_actor,
        [target_ap_id, *post_ap_ids],
    )
    doc["content"] = comment
    return doc
