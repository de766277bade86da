"""Login sessions: a random token in an HttpOnly cookie, its SHA-256 in the database.

A session row holds no client address and no user agent, only a coarse label of the
browser (instance/accounts/devices.py); expired rows are deleted, not kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from instance.accounts.devices import device_label, label_parts
from instance.db import Database, request_version
from instance.db import sessions as sessions_q
from instance.db import users as users_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.db.read_cache import VersionedCache
from instance.db.rows import SessionUserRow
from instance.ids import IdGenerator, now

SESSION_LIFETIME = 30 * 86400
# Writing last-seen on every request would make each page view a write; once an hour is enough.
ACTIVITY_WRITE_INTERVAL = 3600
# Signed-in sessions whose user is kept while the database is unchanged (db/read_cache.py).
SESSIONS_KEPT = 1024
# Expired sessions are also purged at each log-in; the housekeeping job
# (instance/jobs/housekeeping.py) catches instances nobody logs in to.


@dataclass(frozen=True)
class SessionView:
    """One signed-in browser, as the sessions page lists it: never an address or user agent."""

    id: int
    browser: str
    system: str
    created_at: int
    days_ago: int
    current: bool


def token_hash(token: str) -> str:
    """What the database keeps of a session token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class SessionStart:
    """A session to be written in someone else's transaction (a sign-up's): its token is
    known once it has been called, and is valid once that transaction has committed."""

    def __init__(self, sessions: SessionService, user_agent: str | None) -> None:
        self._sessions = sessions
        self._user_agent = user_agent
        self.token: str | None = None

    async def __call__(self, tx: Executor, user_id: int) -> None:
        self.token = await self._sessions.insert(tx, user_id, user_agent=self._user_agent)


class SessionService:
    def __init__(self, db: Database, ids: IdGenerator) -> None:
        self.db = db
        self.ids = ids
        self.kept: VersionedCache[str, SessionUserRow] = VersionedCache(SESSIONS_KEPT)

    def starter(self, user_agent: str | None) -> SessionStart:
        """A session for the account a sign-up is about to make, in the sign-up's own
        transaction: one write transaction per sign-up instead of two (under a surge each
        costs the single writer several round trips through the busy event loop)."""
        return SessionStart(self, user_agent)

    async def insert(self, ex: Executor, user_id: int, *, user_agent: str | None) -> str:
        """A new session's row in `ex`'s transaction; returns its token."""
        token = secrets.token_urlsafe(32)
        ts = now()
        await sessions_q.insert_session(
            ex,
            session_id=self.ids.next_id(),
            token_hash=token_hash(token),
            user_id=user_id,
            now=ts,
            expires_at=ts + SESSION_LIFETIME,
            device=device_label(user_agent),
        )
        return token

    async def create(self, user_id: int, *, user_agent: str | None) -> str:
        """A new session's token; only a coarse label of `user_agent` is kept."""
        async with self.db.transaction() as tx:
            await sessions_q.delete_expired(tx, now())
            return await self.insert(tx, user_id, user_agent=user_agent)

    async def user_for(self, token: str | None) -> Row | None:
        if not token or len(token) > 100:
            return None
        ts = now()
        hashed = token_hash(token)
        # A user read while nothing has been written since (a logout, suspension or a
        # last-active write all move the version), still within its session's lifetime,
        # is what the query would answer.
        version = await request_version.version(self.db)
        user = self.kept.get(hashed, version)
        if user is None or user["session_expires_at"] <= ts:
            user = await sessions_q.get_user_for_token(self.db, hashed, ts)
            if user is not None:
                self.kept.put(hashed, version, user)
        if user is None or user["suspended_at"] is not None:
            return None
        if (user["last_active_at"] or 0) < ts - ACTIVITY_WRITE_INTERVAL:
            await users_q.set_fields(self.db, user["user_id"], {"last_active_at": ts})
        return user

    async def end(self, token: str | None) -> None:
        if token:
            await sessions_q.delete_by_token(self.db, token_hash(token))

    async def others(self, user_id: int, token: str | None) -> list[Row]:
        """The user's live sessions other than the one holding `token`: label and start."""
        keep = token_hash(token) if token else ""
        rows = await sessions_q.list_for_user(self.db, user_id, now())
        return [r for r in rows if r["token_hash"] != keep]

    async def for_user(self, user_id: int, token: str | None) -> list[SessionView]:
        """Every live session of the user, newest first; `current` marks the one asking."""
        keep = token_hash(token) if token else ""
        ts = now()
        views = []
        for row in await sessions_q.list_for_user(self.db, user_id, ts):
            browser, system = label_parts(row["device"])
            views.append(
                SessionView(
                    id=row["id"],
                    browser=browser,
                    system=system,
                    created_at=row["created_at"],
                    days_ago=max(0, (ts - row["created_at"]) // 86400),
                    current=row["token_hash"] == keep,
                )
            )
        return views

    async def end_one(self, user_id: int, session_id: int) -> bool:
        """Ends one of the user's sessions (a lost phone); False when it was not theirs."""
        return await sessions_q.delete_one(self.db, user_id, session_id) > 0

    async def end_others(self, user_id: int, token: str | None) -> int:
        """Ends every session of the user but the one holding `token`; how many ended."""
        keep = token_hash(token) if token else None
        async with self.db.transaction() as tx:
            return await sessions_q.delete_for_user(tx, user_id, except_hash=keep)
