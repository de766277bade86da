"""Saving a profile and enqueueing its Update(Person) are one transaction: both or neither."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from quart import Quart

from instance.config import Settings
from tests.helpers.fanout import expand_fanouts
from tests.helpers.social import account_id, gapo, remote_account, user
from tests.helpers.web import post_form
from tests.test_profile_images import jpeg_with_gps

# A real failure of the real queue: the database refuses the Update's fan-out job.
FAIL_DELIVERIES = (
    "CREATE TRIGGER refuse_deliveries BEFORE INSERT ON jobs"
    " WHEN NEW.kind IN ('deliver', 'fanout')"
    " BEGIN SELECT RAISE(ABORT, 'delivery enqueue failed'); END"
)


async def _updates(app: Quart) -> list[dict[str, object]]:
    """The Update deliveries queued, once the fan-out job has expanded as the runner would."""
    await expand_fanouts(gapo(app))
    rows = await gapo(app).db.fetch_all("SELECT payload FROM jobs WHERE kind = 'deliver'")
    activities = [json.loads(r["payload"])["activity"] for r in rows]
    return [a for a in activities if a["type"] == "Update"]


async def _with_remote_follower(app: Quart) -> int:
    """Alice, with one accepted follower elsewhere (so an Update has somewhere to go)."""
    await user(app, "alice")
    alice_id = await account_id(app, "alice")
    alice = await gapo(app).accounts.account(alice_id)
    remote = await remote_account(app)
    state = await gapo(app).relationship_writer.follow(
        remote, alice, follow_ap_id=f"{remote['ap_id']}#follows/1"
    )
    assert state == "accepted"
    return alice_id


async def test_saved_profile_and_its_update_are_committed_together(app: Quart) -> None:
    """One call saves the new name and queues the Update(Person) that carries it."""
    alice_id = await _with_remote_follower(app)
    services = gapo(app)
    await services.accounts.update_profile(alice_id, display_name="Alice Anew", bio="hello")
    assert (await services.accounts.account(alice_id))["display_name"] == "Alice Anew"
    [update] = await _updates(app)
    assert update["object"]["name"] == "Alice Anew"  # type: ignore[index]


async def test_profile_form_queues_the_update(app: Quart) -> None:
    """Through the web form: one request, the profile and the Update both stored."""
    alice = await user(app, "alice")
    alice_id = await account_id(app, "alice")
    remote = await remote_account(app)
    row = await gapo(app).accounts.account(alice_id)
    await gapo(app).relationship_writer.follow(
        remote, row, follow_ap_id=f"{remote['ap_id']}#follows/1"
    )
    response = await post_form(
        alice,
        "/settings/profile",
        {"display_name": "Alice Web", "bio": "from the form"},
        csrf_from="/settings/profile",
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    assert (await gapo(app).accounts.account(alice_id))["note_source"] == "from the form"
    [update] = await _updates(app)
    assert update["object"]["name"] == "Alice Web"  # type: ignore[index]
    assert update["object"]["summary"] == "<p>from the form</p>"  # type: ignore[index]


async def test_failed_enqueue_leaves_the_profile_and_images_unchanged(
    app: Quart, settings: Settings
) -> None:
    """When the Update cannot be queued, nothing of the save remains: row, jobs, new file."""
    alice_id = await _with_remote_follower(app)
    services = gapo(app)
    before = await services.accounts.account(alice_id)
    jobs_before = await services.db.fetch_value("SELECT COUNT(*) AS n FROM jobs")
    media_dir = Path(settings.data_dir) / "media"
    files_before = sorted(media_dir.rglob("*")) if media_dir.exists() else []
    await services.db.execute(FAIL_DELIVERIES)

    with pytest.raises(sqlite3.IntegrityError, match="delivery enqueue failed"):
        await services.accounts.update_profile(
            alice_id,
            display_name="Half Written",
            bio="never saved",
            locked=True,
            avatar=jpeg_with_gps((400, 400)),
        )

    after = await services.accounts.account(alice_id)
    assert after == before
    assert await services.db.fetch_value("SELECT COUNT(*) AS n FROM jobs") == jobs_before
    # The processed avatar was stored before the transaction; with the save undone it goes.
    files_after = sorted(media_dir.rglob("*")) if media_dir.exists() else []
    assert [p for p in files_after if p.is_file()] == [p for p in files_before if p.is_file()]
