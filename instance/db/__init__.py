"""Storage: the only room that writes SQL. One module of named queries per entity.

`Database` and `Transaction` are protocols (connection.py); `open_database` (backend.py)
opens the backend the settings name (SQLite, sqlite.py).
"""

from instance.db.backend import UnsupportedDatabase, open_database
from instance.db.connection import Database, Row, Transaction

__all__ = ["Database", "Row", "Transaction", "UnsupportedDatabase", "open_database"]
