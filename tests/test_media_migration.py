"""Remote profile pictures stored before the media release still show after upgrading."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from instance.db.migrate import migrate
from instance.db.sqlite import enable_wal
from instance.urls import remote_file_hash
from tests.helpers.migrations import apply_up_to

AVATAR = "https://social.example/avatars/lan.png"
HEADER = "https://social.example/headers/lan.jpg"


async def test_upgrade_gives_known_remote_avatars_and_headers_a_proxy_row(tmp_path: Path) -> None:
    path = tmp_path / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    await enable_wal(path)
    apply_up_to(url, "0007_media")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        insert = (
            "INSERT INTO accounts (id, local, username, username_key, domain, avatar_url,"
            " header_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)"
        )
        conn.execute(insert, (1, 0, "lan", "lan", "social.example", AVATAR, HEADER))
        conn.execute(insert, (2, 0, "minh", "minh", "social.example", AVATAR, None))  # shared
        conn.execute(insert, (3, 0, "evil", "evil", "bad.example", "javascript:alert(1)", None))
        conn.execute(insert, (4, 1, "hoa", "hoa", "", "http://localhost:8000/media/x.webp", None))
    finally:
        conn.close()

    # Later migrations come after it in the same run.
    assert (await migrate(url, path))[0] == "0008_remote_profile_files"

    conn = sqlite3.connect(path)
    try:
        rows = dict(conn.execute("SELECT url_hash, url FROM remote_files").fetchall())
    finally:
        conn.close()
    assert rows == {remote_file_hash(AVATAR): AVATAR, remote_file_hash(HEADER): HEADER}
    assert await migrate(url, path) == []  # once only
