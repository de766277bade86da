"""Two real Gapo instances: a report filed on one about an account of two, forwarded, lands
in two's report queue as a Flag from one's instance actor that never names the reporter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.instances import GapoInstance, WebUser, eventually, signed_in

pytestmark = pytest.mark.federation


async def test_a_forwarded_report_reaches_the_queue_on_two(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    """quyen@one follows sam@two, sees his post, reports it with "forward": two's queue holds
    a report by one's instance actor about sam and that post; the report on two never names quyen."""
    one, two = instances
    async with signed_in((one, "quyen"), (two, "sam")) as (quyen, sam):
        sam_id = await quyen.follow(two.handle("sam"))
        await eventually(
            lambda: one.query(
                "SELECT state FROM follows WHERE followee_id = ? AND state = 'accepted'",
                (int(sam_id),),
            )
        )
        post_id = await sam.post("Spam spam spam")
        note_id = f"{two.actor('sam')}/statuses/{post_id}"
        rows = await eventually(
            lambda: one.query("SELECT id FROM posts WHERE ap_id = ?", (note_id,))
        )
        status = await quyen.post_form(
            "/report",
            {
                "account_id": sam_id,
                "post_id": str(rows[0]["id"]),
                "comment": "Spam from your server",
                "forward": "on",
            },
            csrf_from=f"/report?account_id={sam_id}",
        )
        assert status == 201
        [filed] = one.query("SELECT forwarded_at FROM reports")
        assert filed["forwarded_at"] is not None

        def on_two() -> list[Any]:
            return list(
                two.query(
                    "SELECT r.post_ids_json, r.comment, r.ap_id, t.username,"
                    " rp.ap_id AS reporter FROM reports r"
                    " JOIN accounts t ON t.id = r.target_account_id"
                    " JOIN accounts rp ON rp.id = r.reporter_account_id"
                )
            )

        [report] = await eventually(on_two)
        [report_id] = [r["id"] for r in two.query("SELECT id FROM reports")]
        assert report["reporter"] == f"{one.base_url}/actor"
        assert report["username"] == "sam"
        assert json.loads(report["post_ids_json"]) == [post_id]
        assert report["comment"] == "Spam from your server"
        assert report["ap_id"].startswith(f"{one.base_url}/actor#reports/")
        # Two's moderators see the report from one's server; the reporter stays unnamed.
        two.create_user("tam")
        two.cli("user", "promote", "tam")
        mod = await WebUser(two, "tam").login()
        try:
            detail = await mod.get(f"/admin/reports/{report_id}")
        finally:
            await mod.close()
        assert "Spam from your server" in detail
        assert "quyen" not in detail
