"""The `deliver` job: sign and POST one activity to one inbox, with retries and host health.

Gapo signs with draft-cavage first; when a peer answers 401 it retries at once with
RFC 9421 (or the other way round) and remembers per host which standard worked.
An inbox the address guard refuses (private, loopback, link-local, …) is a permanent
failure: asking again in an hour reaches the same refused address, so the job is given up
at once instead of being retried for days.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from activitypub.delivery import HostHealth, classify_response
from activitypub.fetch import BlockedAddress, Fetcher, FetchError, InvalidUrl
from activitypub.outgoing import omit_empty_arrays
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db.connection import Row
from instance.errors import Overloaded
from instance.ids import now
from instance.jobs.runner import Defer, GiveUp, RetryLater
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.signing import KeySigner, other_scheme

log = logging.getLogger(__name__)


class DeliveryJob:
    def __init__(self, db: Database, fetcher: Fetcher, keys: ActorKeys) -> None:
        self.db = db
        self.fetcher = fetcher
        self.keys = keys

    async def _health(self, host: str) -> tuple[HostHealth, str]:
        row = await hosts_q.get(self.db, host)
        health = HostHealth.from_dict(json.loads(row["health_json"])) if row else HostHealth()
        scheme = (row["signature_scheme"] if row else None) or "cavage"
        return health, scheme

    async def _save_health(self, host: str, health: HostHealth) -> None:
        await hosts_q.set_health(self.db, host, json.dumps(health.to_dict()), now())

    async def __call__(self, payload: dict[str, Any], job: Row) -> None:
        inbox = payload["inbox"]
        host = urlsplit(inbox).netloc.lower()
        if await hosts_q.is_blocked(self.db, host):
            raise GiveUp(f"{host} is blocked")
        try:
            # Made now if the signer never federated before (instance/outbound/actor_keys.py).
            key = await self.keys.for_account(int(payload["signer"]))
        except Overloaded as exc:
            raise Defer("the key pool is full", delay=exc.retry_after or 5) from exc
        if key is None or not key["private_pem"]:
            raise GiveUp("the signing account has no private key")
        health, scheme = await self._health(host)
        ts = now()
        if health.unavailable(ts):
            raise GiveUp(f"{host} has been unavailable for days; skipped until it is seen again")
        if not health.allow_request(ts):
            # Wait for the breaker to let a probe through; the wait costs no attempt.
            wait = int((health.open_until or ts) - ts) + 1
            raise Defer(f"circuit open for {host}", delay=max(wait, 5))
        if health.is_open(ts):
            # This job holds the half-open probe; the claim must be visible to other runners.
            await self._save_health(host, health)
        body = json.dumps(omit_empty_arrays(payload["activity"]), separators=(",", ":")).encode()

        status, text = await self._post(inbox, body, key, scheme)
        verdict = classify_response(status) if status else "retry"
        if verdict == "retry_other_signature":
            alternative = other_scheme(scheme)
            status, text = await self._post(inbox, body, key, alternative)
            verdict = classify_response(status)
            if verdict == "ok":
                await hosts_q.set_signature_scheme(self.db, host, alternative, now())
        if verdict == "ok":
            health.success(now())
            await self._save_health(host, health)
            return
        if verdict == "permanent":
            raise GiveUp(f"{inbox} answered {status}: {text[:200]}")
        health.failure(now())
        await self._save_health(host, health)
        raise RetryLater(f"{inbox} answered {status}: {text[:200]}")

    async def _post(self, inbox: str, body: bytes, key: Row, scheme: str) -> tuple[int, str]:
        signer = KeySigner(key["key_id"], key["private_pem"], scheme)
        try:
            return await self.fetcher.post(inbox, body, sign=signer)
        except (BlockedAddress, InvalidUrl) as exc:
            # Refused before a byte was sent and refused again on every retry: the host's
            # health is not touched (it was never reached) and the reason is kept on the job.
            raise GiveUp(f"{inbox} refused: {exc.reason}") from exc
        except FetchError as exc:
            # Network trouble counts as a failed attempt (status 0 → retry with backoff).
            log.info("delivery to %s failed: %s", inbox, exc)
            return 0, str(exc)
