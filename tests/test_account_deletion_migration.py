"""Upgrading to account deletion (migration 0012): existing accounts keep everything and
none is marked deleted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from instance.db.migrate import migrate
from instance.db.sqlite import enable_wal
from tests.helpers.migrations import apply_up_to


async def test_upgrade_adds_deleted_at_unset(tmp_path: Path) -> None:
    path = tmp_path / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    await enable_wal(path)
    apply_up_to(url, "0011_search")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO accounts (id, local, username, username_key, domain, display_name,"
            " created_at, updated_at) VALUES (1, 1, 'minh', 'minh', '', 'Minh', 0, 0)"
        )
    finally:
        conn.close()
    assert "0012_account_deletion" in await migrate(url, path)
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT username, deleted_at FROM accounts").fetchall()
    finally:
        conn.close()
    assert row == [("minh", None)]
