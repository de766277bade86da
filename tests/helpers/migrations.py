"""A database as an older release left it: the migrations up to one id, applied by yoyo."""

from __future__ import annotations

from yoyo import get_backend, read_migrations

from instance.db.migrate import MIGRATIONS_DIR


def apply_up_to(database_url: str, last: str) -> None:
    """The schema as it was at migration `last`, applied by yoyo as `gapo migrate` does."""
    backend = get_backend(database_url)
    migrations = read_migrations(str(MIGRATIONS_DIR)).filter(lambda m: m.id <= last)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(migrations))
