"""What the rest of the instance sees of the database: the `Database` and `Transaction`
protocols, and the row and parameter types.

Callers annotate these, never a backend's class, so a second backend (PostgreSQL, issue 16)
is one new module next to `sqlite.py` plus a branch in `open_database` (`backend.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from instance.db.dialect import Dialect

# A row as read: any mapping of column names. Query functions declare their shape from
# `db/rows.py` instead where it is fixed; `Row` is for the truly generic ones.
Row = Mapping[str, Any]
Params = Mapping[str, Any] | None


@runtime_checkable
class Transaction(Protocol):
    """Statements inside one write transaction, committed when its `async with` ends cleanly
    and rolled back when it raises. `isinstance(x, Transaction)` tells one from a `Database`
    (only a transaction has `after_commit`)."""

    dialect: Dialect

    async def execute(self, sql: str, params: Params = None) -> int: ...
    async def fetch_one(self, sql: str, params: Params = None) -> Row | None: ...
    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]: ...
    async def fetch_value(self, sql: str, params: Params = None) -> Any: ...

    async def execute_batch(self, statements: Sequence[tuple[str, Params]]) -> list[int]:
        """Run several write statements in order, as one trip where the backend can; their
        row counts."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back); the
        same callback registered twice runs once."""


class Database(Protocol):
    """One process's handle on the database: reads outside a transaction, `execute` for a
    single write, `transaction()` for several that commit together."""

    dialect: Dialect

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]: ...
    async def fetch_one(self, sql: str, params: Params = None) -> Row | None: ...
    async def fetch_value(self, sql: str, params: Params = None) -> Any: ...

    async def execute(self, sql: str, params: Params = None) -> int:
        """One write statement in a transaction of its own; returns the row count."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def write_statements(
        self,
        statements: Sequence[tuple[str, Params]],
        *,
        after_commit: Callable[[], None] | None = None,
    ) -> list[int]:
        """Fixed statements as one transaction of their own, returning their row counts once
        committed; `after_commit` runs after it. The backend may carry many callers'
        statements in one transaction (each rolled back alone if it fails)."""

    async def version(self) -> int:
        """Changes whenever anything commits, here or in another process; equal answers
        mean nothing changed in between (what read caches are keyed by)."""

    async def close(self) -> None: ...
