"""`gapo db copy --to postgresql://…`: an instance used on SQLite, copied, serves the same
people, posts, likes, follows and search results from PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

from instance.app import create_app
from tests.helpers import postgres
from tests.helpers.processes import gapo
from tests.helpers.schema import migrated
from tests.helpers.social import account_id, act_ok, page, user, write
from tests.helpers.web import count_rows, make_settings

TABLES_WITH_ROWS = ("accounts", "users", "posts", "likes", "follows", "sessions", "post_search")


async def test_copy_moves_every_row_and_the_copy_serves(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lite = make_settings(data_dir, database_url=f"sqlite:///{data_dir / 'gapo.sqlite3'}")
    await migrated(lite)
    async with create_app(lite).test_app() as running:
        app = running.app
        alice, bob = await user(app, "alice"), await user(app, "bob")
        post_id = await write(alice, "Phở ở Hà Nội, ngon lắm")
        await act_ok(bob, f"/p/{post_id}/like")
        await act_ok(bob, "/follow", account_id=str(await account_id(app, "alice")))

    target = postgres.empty_database("copy_" + uuid.uuid4().hex[:12])
    result = gapo(
        data_dir,
        "db",
        "copy",
        "--to",
        target,
        GAPO_DATABASE_URL=lite.database_url,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "the counts match" in result.stdout
    assert "GAPO_DATABASE_URL" in result.stdout
    for table in TABLES_WITH_ROWS:
        line = next(x for x in result.stdout.splitlines() if x.startswith(f"{table}: "))
        assert not line.startswith(f"{table}: 0 "), line

    on_pg = make_settings(data_dir, database_url=target)
    async with create_app(on_pg).test_app() as running:
        app = running.app
        reader = app.test_client()
        body = await page(reader, f"/p/{post_id}")
        assert "ngon lắm" in body
        db = app.extensions["gapo"].db
        assert (
            await db.fetch_value("SELECT likes_count FROM posts WHERE id = :id", {"id": post_id})
            == 1
        )
        assert await count_rows(app, "follows") == 1
        found = await page(reader, "/search?q=pho+ha+noi")
        assert f"/p/{post_id}" in found
        carol = await user(app, "carol")  # ids and keys go on from the copied rows
        assert await write(carol, "after the move") > post_id

    again = gapo(data_dir, "db", "copy", "--to", target, GAPO_DATABASE_URL=lite.database_url)
    assert again.returncode == 1
    assert "not empty" in again.stderr
