"""The `deliver` jobs in bulk: claimed in batches, signed off the loop in batches, POSTed per
host with bounded concurrency over the fetcher's one keep-alive session, ended in batches.

One job per inbox stays the unit of work and of durability (a row, leased when claimed);
what changes from the generic runner is the cost around each POST (issue 15: 3 write
transactions per delivery, 16 in flight, the loop 57 % idle):

- claiming: one transaction claims every job a round takes (up to `max_claimed` held);
  a host that has answered quickly lately has up to `depth` jobs claimed at once, a host
  that has not (new, slow, failing) only `per_host`, so a hanging host never holds more;
- signing: as soon as they are claimed, each `SIGN_CHUNK` of a host's jobs goes to the
  signing threads in one hop, so the signatures are ready when a pump reaches them;
- sending: at most `per_host` pumps (connections) per host and `concurrency` POSTs in all;
- ending: outcomes and changed host rows go in batches (`Completions`); health is written
  only when it changes what the next delivery does (`HostBook`).

The retry schedule, the circuit breaker with its single half-open probe, the 401 switch of
signature standard, the blocked and refused hosts all behave as in the single-job handler
they replace (tests/federation_in_process/test_delivery_runner.py).
Claim rounds, the held ids and stopping are shared with the inbox lane (`jobs/lane.py`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from activitypub.delivery import MAX_ATTEMPTS, classify_response, retry_delay
from activitypub.fetch import BlockedAddress, Fetcher, FetchError, InvalidUrl
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.db.rows import JobRow
from instance.errors import Overloaded
from instance.ids import now
from instance.jobs.lane import ClaimLane
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.completions import FLUSH_DELAY, FLUSH_SIZE, Completions
from instance.outbound.delivery_payload import Delivery, MalformedPayload, PayloadReader
from instance.outbound.host_book import HostBook, HostEntry
from instance.outbound.outbox import DELIVER
from instance.outbound.signing import KeySigner, Presigned, SignItem, other_scheme, sign_batch

log = logging.getLogger(__name__)

# Jobs one pump signs in one hop: 8 × ~0.36 ms keeps a hop under 3 ms of signing.
SIGN_CHUNK = 8
# Windows of due jobs one round reads at most (as the generic runner).
MAX_LOOKS = 8


@dataclass
class Claimed:
    """A job this lane holds, with what its claim round read for it."""

    job: JobRow
    delivery: Delivery | None
    key: Row | None


@dataclass
class Batch:
    """Up to SIGN_CHUNK jobs of one host, and their signatures (being) made."""

    jobs: list[Claimed]
    items: list[SignItem]
    signing: asyncio.Future[list[dict[str, str] | None]] | None


class DeliveryLane(ClaimLane):
    """Runs every `deliver` job for a `JobRunner` (which leaves that kind to it)."""

    kinds = frozenset({DELIVER})

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        keys: ActorKeys,
        *,
        concurrency: int = 100,
        per_host: int = 2,
        depth: int = 32,
        max_claimed: int = 1024,
        lease: int = 300,
        max_attempts: int = MAX_ATTEMPTS + 1,
        stop_grace: float = 10.0,
        sign_threads: int | None = None,
        flush_delay: float = FLUSH_DELAY,
        flush_size: int = FLUSH_SIZE,
        refused: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        super().__init__(db, "deliver", max_claimed, lease, max_attempts, stop_grace)
        self.fetcher = fetcher
        # `BlockedHosts.is_blocked`: suspended, or not on the allowlist in allowlist mode.
        # Without it (tests of the lane alone) the row's `blocked` decides.
        self.refused = refused
        self.keys = keys
        self.concurrency = concurrency
        self.per_host = per_host
        self.depth = max(depth, per_host)
        self.hosts = HostBook()
        self.payloads = PayloadReader()
        self.completions = Completions(
            db, self.hosts, delay=flush_delay, size=flush_size, on_written=self._written
        )
        # RSA signing releases the GIL, so threads sign in parallel with the loop; one core
        # is left to the loop: on 2 cores one signing thread delivered 458–653/s against
        # 394–525/s with two (bench_fanout.py, runs alternated on a loaded machine).
        cores = os.cpu_count() or 2
        self._signer = ThreadPoolExecutor(
            max_workers=sign_threads or max(1, min(4, cores - 1)), thread_name_prefix="sign"
        )
        self._sending = asyncio.Semaphore(concurrency)
        # Per host: jobs waiting for a pump, jobs claimed and not yet ended, pumps running.
        self._queues: dict[str, deque[Batch]] = {}
        self._load: Counter[str] = Counter()
        self._pumps: Counter[str] = Counter()
        # Hosts that asked for a claim round since the last one began.
        self._asked: set[str] = set()
        # Per host, jobs other runners held at the last claim round (read by `_pick`).
        self._others: dict[str, int] = {}

    # -- claiming (the lane's tasks are its pumps, one per host connection in use) ----------

    def _limit(self, host: str) -> int:
        """Jobs of `host` this lane may hold: `depth` once it answers fast, else `per_host`."""
        entry = self.hosts.entries.get(host)
        return self.depth if entry is not None and entry.warm() else self.per_host

    def _room(self, host: str) -> int:
        # Jobs other runners hold count too: a host's limit holds across every worker.
        return self._limit(host) - self._load.get(host, 0) - self._others.get(host, 0)

    async def _pick(self) -> list[int]:
        """What is due and fits the hosts' limits, a few windows of due jobs at most."""
        self._asked.clear()
        self._others = await jobs_q.held_by_others(
            self.db, now(), kinds=self.kinds, runner=self.name
        )
        picked: dict[int, None] = {}  # an insertion-ordered set
        taken_hosts: Counter[str] = Counter()
        for _ in range(MAX_LOOKS):
            free = self._free() - len(picked)
            if free <= 0:
                break
            full = [
                h for h in set(self._load) | set(taken_hosts) if self._room(h) - taken_hosts[h] <= 0
            ]
            window = await jobs_q.due_per_host(
                self.db,
                now(),
                kinds=self.kinds,
                per_host=self.depth,
                limit=free,
                exclude_hosts=full,
            )
            progress = False
            for slot in window:
                job_id, host = int(slot["id"]), slot["host"]
                if job_id in self._held or job_id in picked:
                    continue
                if self._room(host) - taken_hosts[host] <= 0:
                    continue
                picked[job_id] = None
                taken_hosts[host] += 1
                progress = True
            if not progress or len(window) < free:
                break
        return list(picked)

    async def _hand_out(self, taken: list[JobRow]) -> None:
        """Read the claimed jobs' hosts and keys once per round, start signing them at once
        (in chunks, on the signing threads), and hand the chunks to the hosts' pumps."""
        hosts = {job["host"] for job in taken}
        rows = {r["domain"]: r for r in await hosts_q.get_many(self.db, hosts)}
        for host in hosts:
            row = rows.get(host)
            entry = self.hosts.refresh(host, row)
            if self.refused is not None:
                # Blocks and the allowlist name domains, as the inbox checks them: no port
                # (a block written with one, on the row, still counts).
                entry.blocked = bool(row and row["blocked"]) or await self.refused(
                    urlsplit(f"//{host}").hostname or host
                )
        keys: dict[int, Row | None] = {}
        fresh: dict[str, list[Claimed]] = {}
        for job in taken:
            self._held.add(int(job["id"]))
            self._load[job["host"]] += 1
            try:
                delivery = self.payloads.read(job["payload"])
            except MalformedPayload as exc:
                self._end_dead(Claimed(job, None, None), str(exc))
                continue
            if delivery.signer not in keys:
                try:
                    # Made now if the signer never federated before (outbound/actor_keys.py).
                    keys[delivery.signer] = await self.keys.for_account(delivery.signer)
                except Overloaded as exc:
                    # The key pool is full (a sign-up surge's first posts): later, unpenalised.
                    self._end_defer(
                        Claimed(job, delivery, None), "the key pool is full", exc.retry_after or 5
                    )
                    continue
            claimed = Claimed(job, delivery, keys[delivery.signer])
            fresh.setdefault(job["host"], []).append(claimed)
        for host, claimed_jobs in fresh.items():
            entry = self.hosts.get(host)
            sendable = []
            for claimed in claimed_jobs:
                reason = self._refusal(host, entry, claimed.key)
                if reason is None:
                    sendable.append(claimed)
                else:
                    self._end_dead(claimed, reason)
            queue = self._queues.setdefault(host, deque())
            for start in range(0, len(sendable), SIGN_CHUNK):
                queue.append(self._sign_ahead(entry, sendable[start : start + SIGN_CHUNK]))
            while self._pumps[host] < self.per_host and self._queues.get(host):
                self._pumps[host] += 1
                self._spawn(self._pump(host), f"deliver-{host}")

    def _sign_ahead(self, entry: HostEntry, chunk: list[Claimed]) -> Batch:
        """Start signing `chunk` now: the signatures are ready by the time a pump gets to
        them, so neither the pumps nor the loop wait for RSA."""
        items = []
        for claimed in chunk:
            assert claimed.delivery is not None and claimed.key is not None
            # Signed for the inbox as written; should the fetcher send it normalised
            # otherwise, `Presigned` signs that URL again rather than send a mismatch.
            items.append(
                SignItem(
                    entry.scheme,
                    "POST",
                    claimed.delivery.inbox,
                    self.fetcher.post_headers(),
                    claimed.delivery.body,
                    claimed.key["key_id"],
                    claimed.key["private_pem"],
                )
            )
        loop = asyncio.get_running_loop()
        try:
            signing: asyncio.Future[list[dict[str, str] | None]] | None = loop.run_in_executor(
                self._signer, sign_batch, items
            )
        except RuntimeError:  # the threads are shut down (stopping): signed one by one
            signing = None
        return Batch(chunk, items, signing)

    # -- one host -----------------------------------------------------------------------------

    async def _pump(self, host: str) -> None:
        try:
            while (queue := self._queues.get(host)) and not self._stopping:
                await self._send(host, queue.popleft())
        finally:
            self._pumps[host] -= 1
            if self._pumps[host] <= 0:
                del self._pumps[host]
                if not self._queues.get(host):
                    self._queues.pop(host, None)
            self.wake()

    async def _send(self, host: str, batch: Batch) -> None:
        entry = self.hosts.get(host)
        signed: list[dict[str, str] | None] = [None] * len(batch.items)
        if batch.signing is not None:
            try:
                signed = await batch.signing
            except (RuntimeError, asyncio.CancelledError):
                if not self._stopping:
                    raise
        for claimed, item, headers in zip(batch.jobs, batch.items, signed, strict=True):
            try:
                await self._deliver(host, entry, claimed, item, headers)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("delivery job %s failed", claimed.job["id"])
                self._end_retry(claimed, repr(exc), failed_host=None)

    def _refusal(self, host: str, entry: HostEntry, key: Row | None) -> str | None:
        """Why the job can never be sent now (it is given up), or None."""
        if entry.blocked:
            return f"{host} is blocked"
        if key is None or not key["private_pem"]:
            return "the signing account has no private key"
        if entry.health.unavailable(now()):
            return f"{host} has been unavailable for days; skipped until it is seen again"
        return None

    async def _deliver(
        self,
        host: str,
        entry: HostEntry,
        claimed: Claimed,
        item: SignItem,
        headers: dict[str, str] | None,
    ) -> None:
        ts = now()
        health = entry.health
        if not health.allow_request(ts):
            # Wait for the breaker to let a probe through; the wait costs no attempt.
            wait = int((health.open_until or ts) - ts) + 1
            self._end_defer(claimed, f"circuit open for {host}", max(wait, 5))
            return
        if health.is_open(ts):
            # This job holds the half-open probe: the claim must be visible to other runners
            # now, not with the next batch.
            snap = entry.snapshot()
            await hosts_q.set_health(self.db, host, snap.health_json, ts)
            entry.written(snap)
        key = claimed.key
        assert key is not None and claimed.delivery is not None
        inbox = claimed.delivery.inbox
        body = claimed.delivery.body
        # Signed ahead with the host's standard of then; a 401 switch since signs afresh.
        scheme = entry.scheme
        if item.scheme != scheme:
            headers = None
        sign = KeySigner(key["key_id"], key["private_pem"], scheme)
        try:
            async with self._sending:
                started = time.monotonic()
                status, text = await self._post(inbox, body, Presigned(item, headers, sign))
                took = time.monotonic() - started
                verdict = classify_response(status) if status else "retry"
                if verdict == "retry_other_signature":
                    alternative = other_scheme(scheme)
                    alt = KeySigner(key["key_id"], key["private_pem"], alternative)
                    status, text = await self._post(inbox, body, alt)
                    verdict = classify_response(status)
                    if verdict == "ok":
                        entry.scheme = alternative
                        entry.scheme_dirty = True
        except (BlockedAddress, InvalidUrl) as exc:
            # Refused before a byte was sent and refused again on every retry: the host's
            # health is not touched (it was never reached).
            self._end_dead(claimed, f"{inbox} refused: {exc.reason}")
            return
        if verdict == "ok":
            entry.note_success(now(), took)
            self._end_done(claimed)
        elif verdict == "permanent":
            self._end_dead(claimed, f"{inbox} answered {status}: {text[:200]}")
        else:
            self._end_retry(claimed, f"{inbox} answered {status}: {text[:200]}", failed_host=entry)

    async def _post(self, inbox: str, body: bytes, sign: Presigned | KeySigner) -> tuple[int, str]:
        try:
            return await self.fetcher.post(inbox, body, sign=sign)
        except (BlockedAddress, InvalidUrl):
            raise
        except FetchError as exc:
            # Network trouble counts as a failed attempt (status 0 → retry with backoff).
            log.info("delivery to %s failed: %s", inbox, exc)
            return 0, str(exc)

    # -- outcomes -----------------------------------------------------------------------------

    def _leave(self, claimed: Claimed) -> None:
        host = claimed.job["host"]
        self._load[host] -= 1
        if self._load[host] <= 0:
            del self._load[host]
        # Claim more for this host once there is room for a good batch (half its depth; all
        # of it for a host that has not answered yet), asking once per round, not once per
        # delivery: a round reads the due window and claims in a write transaction, and
        # woken after every delivery, rounds ran back to back and cost more than they fed.
        if host not in self._asked and self._room(host) >= max(
            self.per_host, self._limit(host) // 2
        ):
            self._asked.add(host)
            self.wake()

    def _end_done(self, claimed: Claimed) -> None:
        self._leave(claimed)
        self.completions.done(int(claimed.job["id"]))

    def _end_dead(self, claimed: Claimed, error: str) -> None:
        self._leave(claimed)
        attempts = int(claimed.job["attempts"]) + 1
        self.completions.dead(int(claimed.job["id"]), attempts=attempts, error=error)

    def _end_defer(self, claimed: Claimed, error: str, delay: int) -> None:
        self._leave(claimed)
        self.completions.retry(
            int(claimed.job["id"]),
            attempts=int(claimed.job["attempts"]),
            run_at=now() + max(1, delay),
            error=error,
        )

    def _end_retry(self, claimed: Claimed, error: str, *, failed_host: HostEntry | None) -> None:
        if failed_host is not None:
            failed_host.note_failure(now())
        self._leave(claimed)
        attempts = int(claimed.job["attempts"]) + 1
        self._retry_or_dead(int(claimed.job["id"]), attempts, error, int(retry_delay(attempts - 1)))

    # -- stopping -------------------------------------------------------------------------

    def _stopped(self) -> None:
        self._queues.clear()
        self._signer.shutdown(wait=False, cancel_futures=True)
