"""Admin actions on how the instance runs: the registration mode and pause, invite codes,
and the instance's settings (name, description, contact, rules, terms, language).

The settings themselves are `accounts/site.py`'s (sign-up reads them there); this checks
the admin's right and writes the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from instance.accounts.service import AccountService
from instance.accounts.site import Site, SiteSettings
from instance.admin.moderation import Moderation, Staff, require
from instance.db import Database
from instance.db import invites as invites_q
from instance.errors import N_, ValidationFailed
from instance.ids import now

MAX_INVITE_USES = 1000
MAX_INVITE_DAYS = 365


@dataclass(frozen=True)
class InviteView:
    id: int
    code: str
    created_at: int
    expires_at: int | None
    max_uses: int
    uses: int
    usable: bool


class SiteAdmin:
    def __init__(
        self, db: Database, site: SiteSettings, accounts: AccountService, moderation: Moderation
    ) -> None:
        self.db = db
        self.site = site
        self.accounts = accounts
        self.moderation = moderation

    async def for_registrations(self, staff: Staff | None) -> Site:
        require(staff, "registrations")
        return await self.site.get()

    async def for_settings(self, staff: Staff | None) -> Site:
        require(staff, "settings")
        return await self.site.get()

    async def save_registrations(self, staff: Staff | None, mode: str, paused: bool) -> None:
        staff = require(staff, "registrations")
        await self.site.save_registrations(mode, paused)
        note = f"mode {mode}" + (", paused" if paused else "")
        await self.moderation.write_log(self.db, staff, "registrations", None, note)

    async def save_settings(self, staff: Staff | None, **values: str) -> None:
        staff = require(staff, "settings")
        await self.site.save_instance(**values)
        await self.moderation.write_log(
            self.db, staff, "instance_settings", None, "instance settings saved"
        )

    async def invites(self, staff: Staff | None) -> list[InviteView]:
        require(staff, "registrations")
        ts = now()
        return [
            InviteView(
                id=row["id"],
                code=row["code"],
                created_at=row["created_at"],
                expires_at=row["expires_at"],
                max_uses=row["max_uses"],
                uses=row["uses"],
                usable=row["uses"] < row["max_uses"]
                and (row["expires_at"] is None or row["expires_at"] > ts),
            )
            for row in await invites_q.list_recent(self.db, limit=50)
        ]

    async def create_invite(self, staff: Staff | None, max_uses: str, expires_days: str) -> str:
        staff = require(staff, "registrations")
        uses = _number(max_uses, 1, MAX_INVITE_USES, "max_uses")
        days = _number(expires_days, 0, MAX_INVITE_DAYS, "expires_days")
        code = await self.accounts.create_invite(
            max_uses=uses, expires_in=days * 86400 or None, created_by=staff["user_id"]
        )
        await self.moderation.write_log(
            self.db, staff, "invite_create", None, f"{uses} use(s), {days or 'no'} day(s)"
        )
        return code

    async def expire_invite(self, staff: Staff | None, invite_id: int) -> None:
        staff = require(staff, "registrations")
        if await invites_q.expire(self.db, invite_id, now()):
            await self.moderation.write_log(
                self.db, staff, "invite_expire", None, f"invite {invite_id}"
            )


def _number(value: str, low: int, high: int, field: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ValidationFailed(
            N_("A whole number from %(low)d to %(high)d."), field=field, low=low, high=high
        )
    return int(text)
