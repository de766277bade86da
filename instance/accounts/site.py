"""The instance's settings that admins change in the browser, read through a small cache.

Name, description, contact, rules, terms, the default language, the registration mode and
the pause switch live in `site_settings` (migration 0013); what is not stored there comes
from the configuration (`GAPO_INSTANCE_NAME`, `GAPO_REGISTRATIONS`). Every request reads
them (the page header shows the name, sign-up checks the mode), so each process keeps the
last read and reads again only when the shared version file changed: a save in any process
on this data dir bumps it after its commit (the mechanism of `accounts/changes.py`), so a
change takes effect at once, without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from instance.accounts.changes import AccountChanges, Version
from instance.config import REGISTRATION_MODES, Settings
from instance.db import Database
from instance.db import site_settings as site_q
from instance.errors import N_, ValidationFailed
from instance.i18n import LOCALES
from instance.ids import now

NAME_MAX = 80
TEXT_MAX = 5000
RULES_MAX = 30
RULE_MAX = 300


@dataclass(frozen=True)
class Site:
    name: str
    description: str
    contact: str
    rules: tuple[str, ...]
    terms: str
    default_language: str
    registrations: str  # open | approval | invite | closed
    registrations_paused: bool

    @property
    def signup_mode(self) -> str:
        """The mode a sign-up meets now: `closed` while paused."""
        return "closed" if self.registrations_paused else self.registrations


def site_changes_path(data_dir: Path) -> Path:
    return data_dir / "run" / "site-settings"


class SiteSettings:
    def __init__(self, db: Database, settings: Settings, changes: AccountChanges) -> None:
        self.db = db
        self.defaults = Site(
            name=settings.instance_name,
            description="",
            contact="",
            rules=(),
            terms="",
            default_language="en",
            registrations=settings.registrations,
            registrations_paused=False,
        )
        self.changes = changes
        self._cached: tuple[Version, Site] | None = None

    async def get(self) -> Site:
        version = self.changes.version()
        if self._cached is not None and self._cached[0] == version:
            return self._cached[1]
        stored = await site_q.all_values(self.db)
        site = replace(
            self.defaults,
            name=stored.get("name") or self.defaults.name,
            description=stored.get("description", ""),
            contact=stored.get("contact", ""),
            terms=stored.get("terms", ""),
        )
        if stored.get("rules"):
            site = replace(site, rules=tuple(r for r in stored["rules"].split("\n") if r))
        if stored.get("default_language") in LOCALES:
            site = replace(site, default_language=stored["default_language"])
        if stored.get("registrations") in REGISTRATION_MODES:
            site = replace(site, registrations=stored["registrations"])
        if "registrations_paused" in stored:
            site = replace(site, registrations_paused=stored["registrations_paused"] == "1")
        # Kept with the version read before the query: a save racing this read bumps the
        # version again, so the next call reads once more rather than keeping a stale copy.
        self._cached = (version, site)
        return site

    async def save_registrations(self, mode: str, paused: bool) -> None:
        if mode not in REGISTRATION_MODES:
            raise ValidationFailed(N_("Unknown registration mode."), field="registrations")
        await self._save({"registrations": mode, "registrations_paused": "1" if paused else "0"})

    async def save_instance(
        self,
        *,
        name: str,
        description: str,
        contact: str,
        rules: str,
        terms: str,
        default_language: str,
    ) -> None:
        title = " ".join(name.split())
        if not title or len(title) > NAME_MAX:
            raise ValidationFailed(
                N_("The name must have 1 to %(max)d characters."), field="name", max=NAME_MAX
            )
        for field, value in (("description", description), ("terms", terms)):
            if len(value) > TEXT_MAX:
                raise ValidationFailed(N_("At most %(max)d characters."), field=field, max=TEXT_MAX)
        rule_list = [" ".join(line.split()) for line in rules.splitlines()]
        rule_list = [r for r in rule_list if r]
        if len(rule_list) > RULES_MAX or any(len(r) > RULE_MAX for r in rule_list):
            raise ValidationFailed(
                N_("At most %(count)d rules of %(max)d characters each."),
                field="rules",
                count=RULES_MAX,
                max=RULE_MAX,
            )
        if default_language not in LOCALES:
            raise ValidationFailed(N_("Unknown language."), field="default_language")
        await self._save(
            {
                "name": title,
                "description": description.strip(),
                "contact": " ".join(contact.split())[:200],
                "rules": "\n".join(rule_list),
                "terms": terms.strip(),
                "default_language": default_language,
            }
        )

    async def _save(self, values: dict[str, str]) -> None:
        ts = now()
        async with self.db.transaction() as tx:
            for key, value in values.items():
                await site_q.put(tx, key, value, ts)
            tx.after_commit(self.changes.bump)
