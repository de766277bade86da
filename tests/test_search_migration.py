"""Upgrading to the search index (migration 0011) indexes what is already stored: local
public posts, every account's name, every tag's folded name; nothing private or remote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from instance.db.migrate import migrate
from instance.db.sqlite import enable_wal
from tests.helpers.migrations import apply_up_to


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_upgrade_backfills_the_search_index(tmp_path: Path) -> None:
    path = tmp_path / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    await enable_wal(path)
    apply_up_to(url, "0008_remote_profile_files")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        account = (
            "INSERT INTO accounts (id, local, username, username_key, domain, display_name,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0)"
        )
        conn.execute(account, (1, 1, "minh", "minh", "", "Nguyễn Văn Minh"))
        conn.execute(account, (2, 0, "lan", "lan", "social.example", "Đỗ Lan"))
        post = (
            "INSERT INTO posts (id, account_id, local, content_source, summary, visibility,"
            " created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)"
        )
        conn.execute(post, (10, 1, 1, "Phở Hà Nội", "", "public", None))
        conn.execute(post, (11, 1, 1, "phở riêng", "", "followers", None))
        conn.execute(post, (12, 1, 1, "phở đã xoá", "", "public", 5))
        conn.execute(post, (13, 2, 0, "phở từ xa", "", "public", None))
        conn.execute(post, (14, 1, 1, "bài có cảnh báo", "Đồ ăn", "public", None))
        # More than one batch of the backfill (1000 rows).
        many = [(1000 + i, 1, 1, f"bún chả {i}", "", "public", None) for i in range(1500)]
        conn.executemany(post, many)
        conn.execute(
            "INSERT INTO hashtags (id, name_key, display_name, created_at)"
            " VALUES (20, 'việtnam', 'ViệtNam', 0)"
        )
    finally:
        conn.close()

    assert "0011_search" in await migrate(url, path)

    assert rows(path, "SELECT rowid, folded FROM post_search WHERE rowid < 1000") == [
        (10, "pho ha noi"),
        (14, "do an bai co canh bao"),
    ]
    assert rows(path, "SELECT COUNT(*) FROM post_search WHERE post_search MATCH 'bun'") == [(1500,)]
    assert rows(path, "SELECT rowid FROM post_search WHERE post_search MATCH '\"pho\"'") == [(10,)]
    assert rows(path, "SELECT rowid, folded FROM account_search ORDER BY rowid") == [
        (1, "nguyen van minh minh"),
        (2, "do lan lan social example"),
    ]
    assert rows(path, "SELECT name_folded FROM hashtags") == [("vietnam",)]
    assert rows(path, "SELECT indexable FROM accounts ORDER BY id") == [(1,), (1,)]
    assert await migrate(url, path) == []  # once only
