"""Password hashing with argon2id, run on a bounded pool of its own.

Parameters (see docs/passwords.md and bench/bench_argon2.py): time_cost=2,
memory 19 MiB, parallelism=1 — OWASP's argon2id baseline, measured at about
20 ms per hash on one core here, so the pool's two threads take ~80-90 sign-ups or logins
a second. The pool admits by estimated wait (instance/admission.py): its estimate of one
hash starts from the dummy hash timed here at start-up, then follows the measured hashes.

The strength estimate (zxcvbn, pure Python) runs on a pool of its own: its jobs take a few
milliseconds, and mixed into the hashing pool they would both pull its estimate of a hash
down and hold a hashing thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from instance.accounts.password_strength import needs_estimate
from instance.accounts.validation import validate_password
from instance.pools import BoundedPool, Slot


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1


class PasswordService:
    def __init__(
        self,
        pool: BoundedPool,
        params: Argon2Params = Argon2Params(),
        *,
        strength_pool: BoundedPool | None = None,
    ) -> None:
        """`strength_pool` runs the strength estimate; the hashing pool when not given."""
        self._pool = pool
        self._strength_pool = strength_pool or pool
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
        )
        # Verifying against this keeps login time the same whether or not the user exists.
        # Timed, it is the pool's first estimate of a hash (on a quiet core: the estimate
        # then grows to what the hashes take under load).
        start = time.perf_counter()
        self._dummy_hash = self._hasher.hash("not a real password")
        pool.job_time.reset(time.perf_counter() - start)

    async def hash(self, password: str, slot: Slot | None = None) -> str:
        """The argon2id hash, on `slot` when the caller already holds a place in the pool."""
        if slot is not None:
            return await slot.run(self._hasher.hash, password)
        return await self._pool.run(self._hasher.hash, password)

    async def check(self, password: str, user_inputs: Sequence[str] = ()) -> None:
        """Refuses a password that is too short, too long or too easy to guess.

        On the strength pool when the estimate runs: it takes milliseconds of pure Python,
        which on the event loop would hold up every other request during a sign-up surge. A
        long password is judged on length alone, at once, without taking a place.
        """
        if needs_estimate(password):
            await self._strength_pool.run(validate_password, password, tuple(user_inputs))
        else:
            validate_password(password, user_inputs)

    @property
    def pool(self) -> BoundedPool:
        return self._pool

    async def verify(
        self, password_hash: str | None, password: str, slot: Slot | None = None
    ) -> bool:
        """Whether `password` matches; on `slot` when the caller already holds a place."""
        args = (password_hash or self._dummy_hash, password, password_hash is not None)
        if slot is not None:
            return await slot.run(self._verify_sync, *args)
        return await self._pool.run(self._verify_sync, *args)

    def _verify_sync(self, password_hash: str, password: str, real: bool) -> bool:
        try:
            ok = self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and real
