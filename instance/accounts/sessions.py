"""Login sessions: a random token in an HttpOnly cookie, its SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets

from instance.db import Database
from instance.db import sessions as sessions_q
from instance.db import users as users_q
from instance.db.connection import Row
from instance.ids import IdGenerator, now

SESSION_LIFETIME = 30 * 86400
# Writing last-seen on every request would make each page view a write; once an hour is enough.
ACTIVITY_WRITE_INTERVAL = 3600


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class SessionService:
    def __init__(self, db: Database, ids: IdGenerator) -> None:
        self.db = db
        self.ids = ids

    async def create(self, user_id: int, *, ip: str | None, user_agent: str | None) -> str:
        token = secrets.token_urlsafe(32)
        ts = now()
        await sessions_q.insert_session(
            self.db,
            session_id=self.ids.next_id(),
            token_hash=_hash(token),
            user_id=user_id,
            now=ts,
            expires_at=ts + SESSION_LIFETIME,
            ip=ip,
            user_agent=(user_agent or "")[:300],
        )
        return token

    async def user_for(self, token: str | None) -> Row | None:
        if not token or len(token) > 100:
            return None
        ts = now()
        user = await sessions_q.get_user_for_token(self.db, _hash(token), ts)
        if user is None or user["suspended_at"] is not None:
            return None
        if (user["last_active_at"] or 0) < ts - ACTIVITY_WRITE_INTERVAL:
            await users_q.set_fields(self.db, user["user_id"], {"last_active_at": ts})
        return user

    async def end(self, token: str | None) -> None:
        if token:
            await sessions_q.delete_by_token(self.db, _hash(token))
