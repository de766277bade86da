"""The allowlist of allowlist mode, kept apart from domain blocks: its CSV and the CLI's way.

The CSV is Mastodon's export of domain allows: a `#domain` header and one domain a line;
a plain list of domains (no header) is read too. An import checks every line before it
writes any, adds (never removes) and writes one audit entry. The CLI (`gapo domain allow`,
`disallow`, `allowlist`, `mode`) is the server's operator: like `gapo domain block`, it acts
without a staff account and so without an audit entry.
"""

from __future__ import annotations

import csv
import io

from instance.admin.federation import MAX_IMPORT_ROWS, FederationAdmin, clean_domain
from instance.admin.moderation import Staff, require
from instance.db import hosts as hosts_q
from instance.db import site_settings as site_q
from instance.errors import N_, ValidationFailed
from instance.federation.host_blocks import MODE_KEY, MODES
from instance.ids import now

ALLOW_CSV_HEADER = "#domain"


def parse_allowlist_csv(text: str) -> list[str]:
    """The domains of an allowlist CSV, each checked; refuses the whole file on a bad one."""
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(
            N_("At most %(max)d domains per import."), field="file", max=MAX_IMPORT_ROWS
        )
    found: list[str] = []
    for index, row in enumerate(rows):
        cell = row[0].strip() if row else ""
        if index == 0 and cell.lstrip("#").strip().lower() == "domain":
            continue  # the header
        if not cell or cell.startswith("#"):
            continue
        name = clean_domain(cell)
        if name not in found:
            found.append(name)
    return found


class Allowlist:
    """The allowlist's import and export (staff), and the CLI's changes (the operator)."""

    def __init__(self, federation: FederationAdmin) -> None:
        self.federation = federation
        self.db = federation.db

    async def export_csv(self, staff: Staff | None) -> str:
        domains = await self.federation.allowlist(staff)
        return "".join(f"{line}\n" for line in (ALLOW_CSV_HEADER, *domains))

    async def import_csv(self, staff: Staff | None, text: str) -> int:
        """Adds every domain of the file to the allowlist; returns how many were read."""
        staff = require(staff, "unblock_domain")
        domains = parse_allowlist_csv(text)
        ts = now()
        async with self.db.transaction() as tx:
            for domain in domains:
                await hosts_q.set_allowed(tx, domain, True, ts)
            if domains:
                await self.federation.log(
                    tx,
                    staff,
                    "domain_allow_import",
                    f"{len(domains)} domains",
                    "imported allowlist",
                )
        self.federation.blocks_changed()
        return len(domains)

    # --- the CLI ---

    async def allow_domain(self, domain: str, allowed: bool = True) -> str:
        name = clean_domain(domain)
        async with self.db.transaction() as tx:
            await hosts_q.set_allowed(tx, name, allowed, now())
        self.federation.blocks_changed()
        return name

    async def domains(self) -> list[str]:
        return await hosts_q.list_allowed(self.db)

    async def mode(self) -> str:
        stored = await site_q.get(self.db, MODE_KEY)
        return stored if stored in MODES else "open"

    async def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValidationFailed(N_("Unknown federation mode."), field="mode")
        async with self.db.transaction() as tx:
            await site_q.put(tx, MODE_KEY, mode, now())
        self.federation.blocks_changed()
