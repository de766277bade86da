"""Every table and column of the schema is written down in docs/privacy.md, and nothing else.

A fresh database is migrated to the newest schema; each table (leaving out the migration
tool's own and the shadow tables SQLite's FTS5 makes for a virtual table) and each of its
columns must appear in the section "What a data request could reach", under a heading
``### Table `name` `` and in the first cell of a row of the table beneath it.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from instance.db.migrate import migrate

DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"
SECTION = "## What a data request could reach"
HEADING_RE = re.compile(r"^### Table `(\w+)`\s*$")
NAME_RE = re.compile(r"`(\w+)`")
# The migration tool's bookkeeping (documented as a group, not column by column).
TOOL_TABLES = re.compile(r"^(_yoyo_\w+|yoyo_lock|sqlite_\w+)$")
# What FTS5 creates beside a virtual table `t`: t_config, t_content, t_data, t_docsize, t_idx.
FTS5_SHADOWS = ("config", "content", "data", "docsize", "idx")


def documented(text: str) -> dict[str, set[str]]:
    """{table: columns} from the doc: the first cell of each row under a `### Table` heading."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    tables: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text[start : end if end != -1 else None].splitlines():
        heading = HEADING_RE.match(line)
        if heading:
            current = tables.setdefault(heading.group(1), set())
        elif line.startswith("### "):
            current = None
        elif current is not None and line.startswith("|"):
            first_cell = line.split("|")[1]
            current.update(NAME_RE.findall(first_cell))
    return tables


def schema(path: Path) -> dict[str, set[str]]:
    """{table: columns} of the database, without the tool's and FTS5's own tables."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        virtual = {name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")}
        shadows = {f"{v}_{suffix}" for v in virtual for suffix in FTS5_SHADOWS}
        return {
            name: {col[1] for col in conn.execute(f"PRAGMA table_info('{name}')")}
            for name, _ in rows
            if not TOOL_TABLES.match(name) and name not in shadows
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    path = tmp_path_factory.mktemp("schema") / "gapo.sqlite3"
    asyncio.run(migrate(f"sqlite:///{path}", path))
    return schema(path)


def where_to_add(table: str) -> str:
    return (
        f"in docs/privacy.md, section {SECTION!r}, under the heading '### Table `{table}`'"
        " (a row whose first cell names the column in backticks, saying what it holds; the"
        " heading's paragraph says who can read the table and how long its rows live)"
    )


def test_every_column_is_documented(migrated: dict[str, set[str]]) -> None:
    """A table or column the migrations make but the privacy document does not list fails,
    naming each `table.column` and the place to describe it."""
    doc = documented(DOC.read_text(encoding="utf-8"))
    missing: list[str] = []
    for table in sorted(migrated):
        if table not in doc:
            missing.append(
                f"table {table} (columns {', '.join(sorted(migrated[table]))}):"
                f" add it {where_to_add(table)}"
            )
            continue
        missing += [
            f"{table}.{column}: add it {where_to_add(table)}"
            for column in sorted(migrated[table] - doc[table])
        ]
    assert not missing, "undocumented in the data inventory:\n" + "\n".join(missing)


def test_the_document_lists_no_column_that_is_gone(migrated: dict[str, set[str]]) -> None:
    """What the document lists exists: a dropped column leaves the inventory too."""
    doc = documented(DOC.read_text(encoding="utf-8"))
    stale = [
        f"{table}.{column}"
        for table, columns in sorted(doc.items())
        for column in sorted(columns - migrated.get(table, set()))
    ] + [f"table {table}" for table in sorted(doc) if table not in migrated]
    assert not stale, "docs/privacy.md lists what the schema no longer has: " + ", ".join(stale)


def test_the_parser_reads_the_convention() -> None:
    """The doc convention as the test reads it: headings, first cells, several names a row."""
    text = (
        f"{SECTION}\n\n### Table `t`\n\nprose `not_a_column`\n\n| column | what |\n|---|---|\n"
        "| `a`, `b` | holds `c` |\n\n### The data directory\n\n| `x` | y |\n\n## Next\n"
        "### Table `u`\n| `z` | |\n"
    )
    assert documented(text) == {"t": {"a", "b"}}
