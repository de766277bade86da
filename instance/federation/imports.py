"""Importing follows, blocks and mutes from a CSV file as Mastodon exports it.

The file is checked in the request (a clear 422 for anything that is not a list of account
addresses; with or without Mastodon's header line) and the addresses are kept in one
`relationships_import` job. The job resolves each address (WebFinger for remote ones) and
calls the one writer of the action (`RelationshipWriter.follow` / `.block`,
`MuteService.mute`), so an imported follow of a remote account sends its Follow like one
made from a profile. It handles CHUNK addresses per run and keeps its place in its payload,
so a file of thousands of lines never holds a job lease for long (even a chunk of
unreachable servers, each waiting out its timeouts, ends well within one) and a restart
resumes it.
Existing relationships are kept (an import merges); an address that cannot be found is
skipped and counted.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.errors import N_, GapoError, ValidationFailed
from instance.federation.lookup import Lookup
from instance.jobs.queue import JobQueue
from instance.jobs.runner import Defer
from instance.relationships.mutes import MuteService
from instance.relationships.writes import RelationshipWriter
from webfinger.client import parse_handle

log = logging.getLogger(__name__)

IMPORT_JOB = "relationships_import"
KINDS = ("following", "blocks", "mutes")
MAX_BYTES = 1024 * 1024
MAX_LINES = 10_000
CHUNK = 10


def parse_addresses(data: bytes) -> list[str]:
    """The account addresses of a Mastodon CSV export (the first column of each line; a
    header line starting `Account address` is skipped); ValidationFailed for a bad file."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(N_("That file is too large (at most 1 MB)."), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(N_("That file is not a CSV text file."), field="file") from exc
    addresses: list[str] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationFailed(N_("That file is not a CSV text file."), field="file") from exc
    for number, row in enumerate(rows, start=1):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        if number == 1 and cell.lower() == "account address":
            continue
        handle = parse_handle(cell)
        if handle is None:
            raise ValidationFailed(
                N_("Line %(line)d is not an account address (name@server)."),
                field="file",
                line=number,
            )
        addresses.append(f"{handle[0]}@{handle[1]}")
    if not addresses:
        raise ValidationFailed(N_("That file lists no account addresses."), field="file")
    if len(addresses) > MAX_LINES:
        raise ValidationFailed(
            N_("That file lists more than %(max)d accounts."), field="file", max=MAX_LINES
        )
    return list(dict.fromkeys(addresses))


class RelationshipImport:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        lookup: Lookup,
        writer: RelationshipWriter,
        mutes: MuteService,
    ) -> None:
        self.db = db
        self.queue = queue
        self.lookup = lookup
        self.writer = writer
        self.mutes = mutes

    async def request(self, account_id: int, kind: str, data: bytes) -> int:
        """Check the file and queue its import; how many addresses it lists."""
        if kind not in KINDS:
            raise ValidationFailed(N_("Choose what the file holds."), field="kind")
        addresses = parse_addresses(data)
        payload = {"account_id": account_id, "kind": kind, "addresses": addresses, "done": 0}
        async with self.db.transaction() as tx:
            await self.queue.enqueue(tx, IMPORT_JOB, payload)
        return len(addresses)

    async def job(self, payload: dict[str, Any], job: Row) -> None:
        current = await jobs_q.get(self.db, int(job["id"]))
        if current is not None:
            payload = json.loads(current["payload"])
        me = await accounts_q.get_by_id(self.db, int(payload["account_id"]))
        if me is None or me["deleted_at"] is not None:
            return
        addresses: list[str] = payload["addresses"]
        start = int(payload["done"])
        for address in addresses[start : start + CHUNK]:
            if not await self._one(me, payload["kind"], address):
                payload["skipped"] = int(payload.get("skipped", 0)) + 1
        payload["done"] = min(start + CHUNK, len(addresses))
        finished = payload["done"] >= len(addresses)
        if finished:
            # Whom a person follows or blocks is theirs: the finished job keeps counts only.
            payload["addresses"] = []
            payload["done"] = payload["total"] = len(addresses)
        await jobs_q.set_payload(self.db, int(job["id"]), json.dumps(payload))
        if not finished:
            raise Defer("more addresses to import", 1)

    async def _one(self, me: Row, kind: str, address: str) -> bool:
        """Apply one line; False when its account could not be found or refused it."""
        try:
            target = await self.lookup.find(address)
            if target["id"] == me["id"]:
                return False
            if kind == "following":
                await self.writer.follow(me, target)
            elif kind == "blocks":
                await self.writer.block(me, target)
            else:
                await self.mutes.mute(me, target)
        except GapoError as exc:
            # The address stays out of the log: whom a person follows or blocks is theirs.
            log.info("an imported line was skipped (%s)", type(exc).__name__)
            return False
        return True
