"""Remote avatars and headers stored before 0007 get their `remote_files` rows.

Readers load a remote account's pictures through /media/proxy/<sha256 of the URL>, and the
proxy serves only URLs it has a row for (it never fetches a URL a reader made up). Accounts
fetched before this release have no such row, so their pictures would stay blank until each
actor is fetched again; this writes the rows once. ~100k remote accounts take about a second.
"""

from __future__ import annotations

import time
from typing import Any

from yoyo import step

from instance.urls import remote_file_hash

__depends__ = {"0007_media"}

BATCH = 1000


def remember_profile_pictures(conn: Any) -> None:
    created_at = int(time.time())
    cursor = conn.cursor()
    cursor.execute(
        "SELECT avatar_url FROM accounts WHERE domain != '' AND avatar_url IS NOT NULL"
        " UNION SELECT header_url FROM accounts"
        " WHERE domain != '' AND header_url IS NOT NULL"
    )
    urls = [row[0] for row in cursor.fetchall() if str(row[0]).startswith(("https://", "http://"))]
    for start in range(0, len(urls), BATCH):
        cursor.executemany(
            "INSERT INTO remote_files (url_hash, url, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (url_hash) DO NOTHING",
            [(remote_file_hash(url), url, created_at) for url in urls[start : start + BATCH]],
        )


steps = [step(remember_profile_pictures)]
