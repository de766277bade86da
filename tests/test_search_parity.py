"""The search index answers the same on SQLite (FTS5) and PostgreSQL (tsvector + unaccent):
the same texts indexed through `db/search_text.py`, the same queries through
`db/dialect.py`, the same rows found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instance.db.connection import Database
from instance.db.migrate import migrate
from instance.db.postgres import PostgresDatabase
from instance.db.search import terms_of
from instance.db.search_text import account_text, post_text
from instance.db.sqlite import SqliteDatabase
from tests.helpers import postgres

POSTS = {
    1: "Phở ở Hà Nội ngon lắm",
    2: "Đà Nẵng: biển đẹp, hải sản tươi",
    3: "mail me at an@example.org or see https://example.org/pho-bo",
    4: "snake_case and C++ and 3.14 pies",
    5: "Straße in München — Ærø og Łódź",
    6: "ｆｕｌｌ　ｗｉｄｔｈ text and “quotes” and don't",
}
ACCOUNTS = {
    10: ("Nguyễn Văn Minh", "minh", ""),
    11: ("Đỗ Lan", "lan", "social.example"),
    12: ("Anne-Marie O'Neil", "annemarie", "mastodon.example"),
}
POST_QUERIES = [
    "pho",
    "ha noi",
    "Hà Nội",
    "da nang",
    "hai san",
    "example",
    "example.org",
    "pho-bo",
    "an",
    "snake",
    "case",
    "c",
    "3",
    "14",
    "strasse",
    "munchen",
    "aero",
    "lodz",
    "full width",
    "dont",
    "don't",
    "quotes",
    "NEAR(pho",
    '"pho"',
    "pho*",
    "-pho",
    "pho OR ngon",
    "xyz",
]
ACCOUNT_QUERIES = ["ngu", "nguyen van", "minh", "do", "lan social", "anne", "o'n", "mast", "soc ex"]


async def _fill(db: Database) -> None:
    for rowid, text in POSTS.items():
        await db.execute(
            "INSERT INTO post_search (rowid, folded) VALUES (:id, :f)",
            {"id": rowid, "f": post_text(text, "")},
        )
    for rowid, (name, username, domain) in ACCOUNTS.items():
        await db.execute(
            "INSERT INTO account_search (rowid, folded) VALUES (:id, :f)",
            {"id": rowid, "f": account_text(name, username, domain)},
        )


async def _found(db: Database, table: str, query: str, *, prefix: bool) -> list[int]:
    terms = terms_of(query)
    if not terms:
        return []
    rows = await db.fetch_all(
        f"SELECT rowid FROM {table} WHERE {db.dialect.search_match(table, 'q')} ORDER BY rowid",
        {"q": db.dialect.search_query(terms, prefix=prefix)},
    )
    return [int(r["rowid"]) for r in rows]


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    path = tmp_path / "gapo.sqlite3"
    await migrate(f"sqlite:///{path}", path)
    lite = SqliteDatabase(path)
    await lite.open()
    url = postgres.empty_database("parity_" + uuid.uuid4().hex[:12])
    await migrate(url)
    pg = PostgresDatabase(url, pool_size=2)
    await pg.open()
    await _fill(lite)
    await _fill(pg)
    yield lite, pg
    await lite.close()
    await pg.close()


async def test_posts_and_people_are_found_alike(both: tuple[Database, Database]) -> None:
    lite, pg = both
    differences = []
    hits = 0
    for query in POST_QUERIES:
        on_lite = await _found(lite, "post_search", query, prefix=False)
        hits += len(on_lite)
        if on_lite != await _found(pg, "post_search", query, prefix=False):
            differences.append(
                (query, on_lite, await _found(pg, "post_search", query, prefix=False))
            )
    for query in ACCOUNT_QUERIES:
        on_lite = await _found(lite, "account_search", query, prefix=True)
        hits += len(on_lite)
        if on_lite != await _found(pg, "account_search", query, prefix=True):
            differences.append(
                (query, on_lite, await _found(pg, "account_search", query, prefix=True))
            )
    assert differences == []
    assert hits > 20  # the queries do find things: equal empty answers would prove nothing
