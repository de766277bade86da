"""The admin dashboard: the numbers it charts are the ones stored, drawn without script."""

from __future__ import annotations

import re

from quart import Quart

from tests.helpers.social import gapo, page, user, write


async def test_dashboard_counts_sign_ups_posts_queue_and_media(app: Quart) -> None:
    admin = await user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    writer = await user(app, "sam")
    for text in ("one", "two", "three"):
        await write(writer, text)
    (gapo(app).settings.data_dir / "media").mkdir(exist_ok=True)
    (gapo(app).settings.data_dir / "media" / "probe.bin").write_bytes(b"x" * 2500)
    body = await page(admin, "/admin")
    assert "<svg" in body and "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    board = await gapo(app).dashboard.build(
        await gapo(app).db.fetch_one(
            "SELECT u.id AS user_id, u.account_id, u.role, a.username FROM users u"
            " JOIN accounts a ON a.id = u.account_id WHERE a.username = 'rooty'"
        )
    )
    assert board.signups.total == 2 and board.signups.bars[-1].value == 2
    assert board.local_posts.total == 3
    assert board.totals["users"] == 2
    assert board.media_bytes >= 2500 and board.media_files >= 1
    # The numbers are printed beside the chart, today's last.
    values = re.findall(r"<td data-value>(\d+)</td>", body)
    assert values[29] == "2" and values[59] == "3"
    # The highest bar reaches the top of the chart.
    assert board.local_posts.bars[-1].y == 0


async def test_dashboard_is_missing_for_people(app: Quart) -> None:
    person = await user(app, "pat")
    assert (await person.get("/admin")).status_code == 404
    assert (await app.test_client().get("/admin")).status_code == 404
