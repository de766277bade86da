"""Reports: a person files one, staff resolve it with an action, the reporter is told; a
peer's Flag joins the queue; a report on a remote account is forwarded as Mastodon's Flag."""

from __future__ import annotations

import json

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_activity
from instance.db import users as users_q
from instance.federation.handle_flag import handle_flag
from tests.helpers.social import account_id, deliveries, gapo, page, remote_account, user, write
from tests.helpers.web import post_form


async def staff(app: Quart, name: str = "rooty") -> Client:
    client = await user(app, name)
    await gapo(app).accounts.promote(name, "admin")
    return client


async def report(client: Client, target: int, **form: str) -> object:
    return await post_form(
        client,
        "/report",
        {"account_id": str(target), **form},
        csrf_from=f"/report?account_id={target}",
    )


async def test_report_resolved_with_an_action_and_the_reporter_is_told(app: Quart) -> None:
    admin = await staff(app)
    sam = await user(app, "sam")
    rea = await user(app, "rea")
    post_id = await write(sam, "mx-abusive words")
    sam_id = await account_id(app, "sam")
    assert "Report" in await page(rea, "/@sam")
    assert f"/report?account_id={sam_id}&amp;post_id={post_id}" in await page(rea, f"/p/{post_id}")
    response = await report(rea, sam_id, post_id=str(post_id), comment="Insults me")
    assert response.status_code == 201
    queue = await page(admin, "/admin/reports")
    assert "@sam" in queue and "@rea" in queue and "Insults me" in queue
    [open_report] = await gapo(app).report_queue.page(await _row(app), resolved=False)
    detail = await page(admin, f"/admin/reports/{open_report.id}")
    assert "mx-abusive words" in detail
    resolved = await post_form(
        admin,
        f"/admin/reports/{open_report.id}/resolve",
        {"action": "silence", "reason": "Repeated insults"},
        csrf_from=f"/admin/reports/{open_report.id}",
    )
    assert resolved.status_code == 302
    assert (await gapo(app).accounts.account(sam_id))["silenced_at"] is not None
    assert "Repeated insults" in await page(admin, "/admin/log")
    assert "@sam" in await page(admin, "/admin/reports?state=closed")
    assert await gapo(app).report_queue.page(await _row(app), resolved=False) == []
    assert "Your report was handled" in await page(rea, "/notifications")


async def test_a_report_cannot_name_a_post_the_reporter_cannot_see(app: Quart) -> None:
    sam = await user(app, "sam")
    rea = await user(app, "rea")
    secret = await write(sam, "mx-friends only", "followers")
    response = await report(rea, await account_id(app, "sam"), post_id=str(secret))
    assert response.status_code == 404
    assert await gapo(app).db.fetch_value("SELECT COUNT(*) AS n FROM reports") == 0


async def test_a_report_on_a_remote_account_is_forwarded_as_a_flag(app: Quart) -> None:
    rea = await user(app, "rea")
    remote = await remote_account(app)
    response = await report(rea, int(remote["id"]), comment="Spam", forward="on")
    assert response.status_code == 201
    [delivery] = await deliveries(app, "Flag")
    flag = delivery["activity"]
    assert flag["actor"] == gapo(app).urls.instance_actor
    assert flag["object"] == [remote["ap_id"]] and flag["content"] == "Spam"
    assert delivery["signer"] == gapo(app).instance_actor["id"]
    assert gapo(app).urls.actor("rea") not in json.dumps(flag)  # the reporter stays unnamed
    assert delivery["inbox"] in (remote["ap_shared_inbox"], remote["ap_inbox"])


async def test_an_incoming_flag_joins_the_queue_once(app: Quart) -> None:
    admin = await staff(app)
    sam = await user(app, "sam")
    post_id = await write(sam, "mx-flagged")
    remote = await remote_account(app)
    urls = gapo(app).urls
    activity = parse_activity(
        {
            "id": "https://mastodon.social/0f6e8c2a",
            "type": "Flag",
            "actor": remote["ap_id"],
            "content": "Spam from your server",
            "object": [urls.actor("sam"), urls.note("sam", post_id)],
        }
    )
    assert await handle_flag(gapo(app).federation, activity, remote) == "reported"
    assert (await handle_flag(gapo(app).federation, activity, remote)).startswith("ignored")
    [incoming] = await gapo(app).report_queue.page(await _row(app), resolved=False)
    assert incoming.target == "@sam" and incoming.post_count == 1
    assert "Spam from your server" in await page(admin, f"/admin/reports/{incoming.id}")


async def test_reports_are_missing_for_people(app: Quart) -> None:
    person = await user(app, "pat")
    assert (await person.get("/admin/reports")).status_code == 404
    assert (await app.test_client().get("/report?account_id=1")).status_code in (302, 401)


async def _row(app: Quart) -> object:
    return await users_q.get_by_username(gapo(app).db, "rooty")
