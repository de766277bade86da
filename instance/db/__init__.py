"""Storage: the only room that writes SQL. One module of named queries per entity."""

from instance.db.connection import Database, Row, Transaction

__all__ = ["Database", "Row", "Transaction"]
