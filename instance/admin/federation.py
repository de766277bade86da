"""Admin actions on federation: the job queue, domain blocks and per-host health.

A domain block has Mastodon's fields: a severity (`suspend`: nothing is accepted from the
domain, the inbox refuses it; `silence`: its accounts stay off public timelines, hashtag
pages and search; `noop`: neither), `reject_media` (no file of theirs is fetched),
`reject_reports`, a public and a private comment, and `obfuscate`. Lists are exchanged as
Mastodon's `domain_blocks.csv` (`#domain,#severity,#reject_media,#reject_reports,
#public_comment,#obfuscate`; booleans `true`/`false`).

The federation mode (`open`, or `allowlist`: only the domains on the allowlist federate) is
stored in `site_settings`, the allowlist as `hosts.allowed` (0017); both are the admin's and
both bump the blocked-host version, since `BlockedHosts` applies them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activitypub.delivery import HostHealth
from instance.accounts.changes import AccountChanges
from instance.admin.moderation import Moderation, Staff, clean_reason, require
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.db import site_settings as site_q
from instance.db.executor import Executor
from instance.db.rows import DomainBlockRow, JobCountRow
from instance.errors import N_, ValidationFailed
from instance.federation.host_blocks import MODE_KEY, MODES
from instance.ids import now
from instance.jobs.wakeup import JobWakeup

SEVERITIES = ("suspend", "silence", "noop")
CSV_HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)
COMMENT_MAX = 1000
MAX_IMPORT_ROWS = 10_000
HEALTH_ROWS = 200
DELIVER = "deliver"


@dataclass(frozen=True)
class DomainBlock:
    domain: str
    severity: str  # one of SEVERITIES
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    obfuscate: bool

    @classmethod
    def of(cls, row: DomainBlockRow) -> DomainBlock:
        return cls(
            domain=row["domain"],
            severity=row["severity"] or "noop",
            reject_media=bool(row["reject_media"]),
            reject_reports=bool(row["reject_reports"]),
            public_comment=row["public_comment"],
            private_comment=row["private_comment"],
            obfuscate=bool(row["obfuscate"]),
        )


@dataclass(frozen=True)
class HostHealthView:
    """One host as the federation page shows it."""

    domain: str
    state: str  # closed | open | half-open | unavailable
    consecutive_failures: int
    last_success_at: int | None
    last_failure_at: int | None
    queued: int
    severity: str | None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0 or self.state != "closed"


def clean_domain(value: str) -> str:
    """A host name as `hosts` keys it: lowercased, without scheme, path or trailing dot."""
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rstrip(".")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")
    if not text or len(text) > 253 or "." not in text or not set(text) <= allowed:
        raise ValidationFailed(N_("That is not a domain name."), field="domain")
    return text


def _comment(value: str, field: str) -> str:
    text = value.strip()
    if len(text) > COMMENT_MAX:
        raise ValidationFailed(
            N_("The reason is too long (at most %(max)d characters)."), field=field, max=COMMENT_MAX
        )
    return text


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "on")


class FederationAdmin:
    def __init__(
        self,
        db: Database,
        wakeup: JobWakeup,
        moderation: Moderation | None = None,
        host_changes: AccountChanges | None = None,
    ) -> None:
        self.db = db
        self.wakeup = wakeup
        # Writes the audit entries of block changes; None for the CLI-only uses in tests.
        self.moderation = moderation
        # Bumped after a block changes: every process's `BlockedHosts` reads afresh.
        self.host_changes = host_changes

    async def job_counts(self) -> list[JobCountRow]:
        return await jobs_q.counts_by_state(self.db)

    async def retry_now(self) -> int:
        count = await jobs_q.retry_now(self.db, now())
        if count:
            self.wakeup.notify()  # runners in other processes start them now, not at a poll
        return count

    async def block_domain(self, domain: str, blocked: bool = True) -> None:
        """`gapo domain block / unblock`: a suspension without comments, or no block."""
        name = clean_domain(domain)
        async with self.db.transaction() as tx:
            if blocked:
                await hosts_q.set_block(tx, name, _values("suspend"), now())
            else:
                await hosts_q.clear_block(tx, name, now())
        self.blocks_changed()

    # --- the federation page ---

    async def blocks(self, staff: Staff | None) -> list[DomainBlock]:
        require(staff, "view")
        return [DomainBlock.of(row) for row in await hosts_q.list_blocks(self.db)]

    async def block(
        self,
        staff: Staff | None,
        domain: str,
        *,
        severity: str,
        reject_media: bool = False,
        reject_reports: bool = False,
        public_comment: str = "",
        private_comment: str = "",
        obfuscate: bool = False,
    ) -> None:
        """Adds or changes a domain block; the audit entry's reason is the comments.

        A moderator may add a block or make one stricter; loosening (or removing) one is an
        admin's (`instance/admin/roles.py`)."""
        staff = require(staff, "block_domain")
        name = clean_domain(domain)
        if severity not in SEVERITIES:
            raise ValidationFailed(N_("Unknown severity."), field="severity")
        public = _comment(public_comment, "public_comment")
        private = _comment(private_comment, "private_comment")
        reason = private or public
        if not reason:
            raise ValidationFailed(
                N_("Give a reason: it goes in the audit log."), field="private_comment"
            )
        values = _values(
            severity,
            reject_media=reject_media,
            reject_reports=reject_reports,
            public_comment=public,
            private_comment=private,
            obfuscate=obfuscate,
        )
        async with self.db.transaction() as tx:
            current = await hosts_q.get_block(tx, name)
            if current is not None and _loosens(current, values):
                require(staff, "unblock_domain")
            await hosts_q.set_block(tx, name, values, now())
            await self.log(tx, staff, f"domain_{severity}", name, reason)
        self.blocks_changed()

    async def unblock(self, staff: Staff | None, domain: str, reason: str) -> None:
        staff = require(staff, "unblock_domain")
        name = clean_domain(domain)
        why = clean_reason(reason)
        async with self.db.transaction() as tx:
            await hosts_q.clear_block(tx, name, now())
            await self.log(tx, staff, "domain_unblock", name, why)
        self.blocks_changed()

    async def mode(self, staff: Staff | None) -> str:
        require(staff, "view")
        stored = await site_q.get(self.db, MODE_KEY)
        return stored if stored in MODES else "open"

    async def set_mode(self, staff: Staff | None, mode: str, reason: str) -> None:
        """Open federation, or only the allowlist's domains; an admin's, logged."""
        staff = require(staff, "unblock_domain")
        if mode not in MODES:
            raise ValidationFailed(N_("Unknown federation mode."), field="mode")
        why = clean_reason(reason)
        async with self.db.transaction() as tx:
            await site_q.put(tx, MODE_KEY, mode, now())
            await self.log(tx, staff, f"federation_{mode}", mode, why)
        self.blocks_changed()

    async def allowlist(self, staff: Staff | None) -> list[str]:
        require(staff, "view")
        return await hosts_q.list_allowed(self.db)

    async def allow(
        self, staff: Staff | None, domain: str, reason: str, allowed: bool = True
    ) -> None:
        """Adds a domain to the allowlist (or removes it); an admin's, logged."""
        staff = require(staff, "unblock_domain")
        name = clean_domain(domain)
        why = clean_reason(reason)
        async with self.db.transaction() as tx:
            await hosts_q.set_allowed(tx, name, allowed, now())
            await self.log(tx, staff, "domain_allow" if allowed else "domain_disallow", name, why)
        self.blocks_changed()

    def blocks_changed(self) -> None:
        """After the commit: every process's blocked-host cache (`federation/host_blocks.py`)
        reads the table again at its next check."""
        if self.host_changes is not None:
            self.host_changes.bump()

    async def log(self, tx: Executor, staff: Staff, action: str, domain: str, reason: str) -> None:
        if self.moderation is not None:
            await self.moderation.write_log(tx, staff, action, None, reason, target_label=domain)

    async def export_csv(self, staff: Staff | None) -> str:
        """Mastodon's domain_blocks.csv; private comments stay here (Mastodon's export
        leaves them out too)."""
        require(staff, "view")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for block in await self.blocks(staff):
            writer.writerow(
                (
                    block.domain,
                    block.severity,
                    str(block.reject_media).lower(),
                    str(block.reject_reports).lower(),
                    block.public_comment,
                    str(block.obfuscate).lower(),
                )
            )
        return out.getvalue()

    async def import_csv(self, staff: Staff | None, text: str) -> int:
        """Adds every block of a Mastodon domain_blocks.csv (or a plain list of domains,
        one per line, suspended); all rows are checked before any is written. Returns how
        many domains were written."""
        staff = require(staff, "unblock_domain")
        rows = list(csv.reader(io.StringIO(text)))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ValidationFailed(
                N_("At most %(max)d domains per import."), field="file", max=MAX_IMPORT_ROWS
            )
        header = [h.strip().lstrip("#") for h in rows[0]] if rows else []
        has_header = bool(header) and header[0] == "domain"
        columns = header if has_header else ["domain"]
        parsed: list[tuple[str, dict[str, Any]]] = []
        for row in rows[1:] if has_header else rows:
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            cells = dict(zip(columns, row, strict=False))
            severity = (cells.get("severity") or "suspend").strip().lower()
            if severity not in SEVERITIES:
                raise ValidationFailed(
                    N_("Unknown severity %(value)s."), field="file", value=severity[:20]
                )
            parsed.append(
                (
                    clean_domain(cells["domain"]),
                    _values(
                        severity,
                        reject_media=_flag(cells.get("reject_media", "")),
                        reject_reports=_flag(cells.get("reject_reports", "")),
                        public_comment=_comment(cells.get("public_comment", ""), "file"),
                        obfuscate=_flag(cells.get("obfuscate", "")),
                    ),
                )
            )
        ts = now()
        async with self.db.transaction() as tx:
            for domain, values in parsed:
                await hosts_q.set_block(tx, domain, values, ts)
            if parsed:
                await self.log(
                    tx, staff, "domain_import", f"{len(parsed)} domains", "imported block list"
                )
        self.blocks_changed()
        return len(parsed)

    async def health(self, staff: Staff | None) -> list[HostHealthView]:
        """Hosts this server has talked to, failing ones first, with queued deliveries."""
        require(staff, "view")
        queued = {r["key"]: int(r["n"]) for r in await jobs_q.queued_by_host(self.db, DELIVER)}
        ts = float(now())
        views = []
        for row in await hosts_q.health_list(self.db, limit=HEALTH_ROWS):
            health = HostHealth.from_dict(json.loads(row["health_json"] or "{}"))
            state = "unavailable" if health.unavailable(ts) else str(health.state(ts))
            views.append(
                HostHealthView(
                    domain=row["domain"],
                    state=state,
                    consecutive_failures=health.consecutive_failures,
                    last_success_at=_int(health.last_success_at),
                    last_failure_at=_int(health.last_failure_at),
                    queued=queued.get(row["domain"], 0),
                    severity=row["severity"],
                )
            )
        views.sort(key=lambda v: (not v.failing, -v.queued, v.domain))
        return views


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _values(severity: str, **fields: Any) -> dict[str, Any]:
    return {
        "severity": None if severity == "noop" else severity,
        "reject_media": 1 if fields.get("reject_media") else 0,
        "reject_reports": 1 if fields.get("reject_reports") else 0,
        "public_comment": fields.get("public_comment", ""),
        "private_comment": fields.get("private_comment", ""),
        "obfuscate": 1 if fields.get("obfuscate") else 0,
    }


STRICTNESS = {None: 0, "silence": 1, "suspend": 2}


def _loosens(current: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """True when `new` lifts any part of `current` (a weaker severity, a flag turned off)."""
    return (
        STRICTNESS[new["severity"]] < STRICTNESS[current["severity"]]
        or new["reject_media"] < current["reject_media"]
        or new["reject_reports"] < current["reject_reports"]
    )
