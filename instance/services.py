"""The composition root: opens the database and builds every service one process uses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from instance.accounts.passwords import Argon2Params, PasswordService
from instance.accounts.service import AccountService
from instance.accounts.sessions import SessionService
from instance.config import Settings
from instance.db import Database
from instance.db.migrate import pending_migrations
from instance.db.nodes import claim_node
from instance.ids import IdGenerator, now
from instance.pools import BoundedPool
from instance.ratelimit import RateLimiter


class SchemaOutOfDate(Exception):
    """The database needs `gapo migrate` before the server can use it."""


def load_or_create_secret(data_dir: Path, name: str = "secret_key") -> str:
    """A random secret kept in the data dir (mode 0600), made on first start."""
    path = data_dir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the file.
        fd = path.open("x", encoding="ascii")
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with fd:
        path.chmod(0o600)
        fd.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


@dataclass
class Services:
    settings: Settings
    db: Database
    ids: IdGenerator
    password_pool: BoundedPool
    key_pool: BoundedPool
    accounts: AccountService
    sessions: SessionService
    secret_key: str
    signup_limiter: RateLimiter
    login_limiter: RateLimiter

    async def close(self) -> None:
        await self.db.close()
        self.password_pool.shutdown()
        self.key_pool.shutdown()


async def open_services(settings: Settings) -> Services:
    """Everything a process needs, on a database whose schema is already current."""
    if await pending_migrations(settings.database_url):
        raise SchemaOutOfDate("the database schema is not current: run `gapo migrate` first")
    db = Database(settings.sqlite_path, synchronous=settings.sqlite_synchronous)
    await db.open()
    ids = IdGenerator(await claim_node(db, now()))
    password_pool = BoundedPool("argon2", settings.password_workers, settings.password_queue)
    key_pool = BoundedPool("rsa-keygen", 2, settings.password_queue)
    passwords = PasswordService(
        password_pool,
        Argon2Params(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib),
    )
    return Services(
        settings=settings,
        db=db,
        ids=ids,
        password_pool=password_pool,
        key_pool=key_pool,
        accounts=AccountService(settings, db, ids, passwords, key_pool),
        sessions=SessionService(db, ids),
        secret_key=load_or_create_secret(settings.data_dir),
        signup_limiter=RateLimiter(settings.signup_rate_per_hour, 3600),
        login_limiter=RateLimiter(settings.login_rate_per_5min, 300),
    )
