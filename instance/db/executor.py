"""What query functions accept: the database itself or an open transaction."""

from __future__ import annotations

from typing import Any, Protocol

from instance.db.connection import Params
from instance.db.dialect import Dialect


class Executor(Protocol):
    # The SQL that differs between the engines (`db/dialect.py`).
    dialect: Dialect

    # Rows come back untyped (`Any`): each query function declares the shape its SELECT
    # makes (`db/rows.py`), which mypy then checks wherever the row is read.
    async def execute(self, sql: str, params: Params = None) -> int: ...
    async def fetch_one(self, sql: str, params: Params = None) -> Any: ...
    async def fetch_all(self, sql: str, params: Params = None) -> list[Any]: ...
    async def fetch_value(self, sql: str, params: Params = None) -> Any: ...
