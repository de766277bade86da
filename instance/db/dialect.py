"""The one place where the SQL of the two backends differs: SQLite's and PostgreSQL's.

Everything else in `db/` is written once, in the SQL both engines take (`ON CONFLICT … DO
NOTHING`, `excluded.`, `COALESCE`, partial indexes, app-made 64-bit ids, so no
`last_insert_rowid`/`RETURNING id`). What cannot be written once is here, as small
methods a query module calls on `ex.dialect`:

- the scalar maximum (`MAX(a, b)` in SQLite, `GREATEST(a, b)` in PostgreSQL);
- full-text search: FTS5 `MATCH` and `rank` against a `tsvector` expression index,
  `@@ to_tsquery` and `ts_rank` (the tables and the text they index are the same:
  `post_search` / `account_search` with columns `rowid`, `folded`).

The query text of a search is built here too, from the same terms, so both engines find
the same rows: the indexed text is already folded and cut into words by
`db/search_text.py`, and each term is split into the same words here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word as FTS5's unicode61 tokenizer cuts it: letters and digits; everything else
# (punctuation, `_`, symbols) separates words. `search_text.words` cuts the indexed text so.
WORD = re.compile(r"[^\W_]+")

# The text search configuration migration 0011 creates on PostgreSQL: `simple` (no
# stemming, no stop words, like unicode61) with `unaccent` first.
PG_SEARCH_CONFIG = "gapo_search"


@dataclass(frozen=True)
class Dialect:
    """The SQL that differs, for one engine (`SQLITE` or `POSTGRESQL`)."""

    name: str

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"

    def greatest(self, *exprs: str) -> str:
        """The largest of the expressions (SQL scalar MAX of two or more)."""
        function = "GREATEST" if self.is_postgresql else "MAX"
        return f"{function}({', '.join(exprs)})"

    def search_match(self, table: str, param: str) -> str:
        """SQL true for the rows of the search table `table` matching the query in `:param`
        (made by `search_query`). SQLite reads MATCH on the table's own name, so the table
        must not be aliased."""
        if self.is_postgresql:
            return (
                f"to_tsvector('{PG_SEARCH_CONFIG}', {table}.folded)"
                f" @@ to_tsquery('{PG_SEARCH_CONFIG}', :{param})"
            )
        return f"{table} MATCH :{param}"

    def search_rank(self, table: str, param: str) -> str:
        """An ORDER BY expression putting the best matches of `search_match` first."""
        if self.is_postgresql:
            return (
                f"-ts_rank(to_tsvector('{PG_SEARCH_CONFIG}', {table}.folded),"
                f" to_tsquery('{PG_SEARCH_CONFIG}', :{param}))"
            )
        return f"{table}.rank"

    def search_query(self, terms: list[str], *, prefix: bool) -> str:
        """The query text ANDing every term; `prefix` lets each term's last word match the
        start of a word. Nothing a person types is read as query syntax: FTS5 gets each
        term quoted (a `"` doubled); PostgreSQL gets only the words of each term, joined by
        `<->` (next to each other, as an FTS5 quoted phrase is)."""
        if self.is_postgresql:
            phrases = []
            for term in terms:
                words = WORD.findall(term)
                if not words:
                    continue
                quoted = [f"'{w}'" for w in words]  # words hold no quote or backslash
                if prefix:
                    quoted[-1] += ":*"
                phrases.append("(" + " <-> ".join(quoted) + ")")
            # A query of no word matches nothing (an empty tsquery would match nothing too,
            # with a notice); callers pass terms that hold a letter or digit.
            return " & ".join(phrases) or "''"
        star = "*" if prefix else ""
        return " ".join('"' + term.replace('"', '""') + '"' + star for term in terms)


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")
