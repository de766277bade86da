"""What query functions accept: the database itself or an open transaction."""

from __future__ import annotations

from typing import Any, Protocol

from instance.db.connection import Params, Row


class Executor(Protocol):
    async def execute(self, sql: str, params: Params = None) -> int: ...
    async def fetch_one(self, sql: str, params: Params = None) -> Row | None: ...
    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]: ...
    async def fetch_value(self, sql: str, params: Params = None) -> Any: ...
