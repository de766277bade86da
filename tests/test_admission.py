"""Admission by estimated wait: the decision follows the estimate of a job, never the clock.

The estimate is set by hand (or fed measured run times through a fake clock), so these tests
assert which requests are refused and what Retry-After they get, with no timing involved.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import pytest
from quart import Quart

from instance import pools
from instance.admission import JobTime, expected_wait, refusal
from instance.errors import Overloaded
from instance.pools import BoundedPool
from tests.helpers.web import AppFactory, count_rows, post_form, signup


def test_refusal_admits_within_the_bound_and_sheds_past_it() -> None:
    """Two threads, 0.5 s a job, 1 s bound: three jobs ahead still finish in time, four not."""
    assert expected_wait(3, 2, 0.5) == 1.0
    assert refusal(3, 2, 0.5, 1.0) is None
    assert refusal(4, 2, 0.5, 1.0) == 1  # the four ahead drain in 1 s
    assert refusal(40, 2, 0.5, 1.0) == 10
    # A free thread: admitted whatever the estimate, so that the estimate can recover.
    assert refusal(0, 1, 3.0, 1.0) is None and refusal(1, 2, 3.0, 1.0) is None
    assert refusal(1, 1, 3.0, 1.0) == 3


def test_job_time_moves_towards_what_jobs_take() -> None:
    estimate = JobTime(0.02, weight=0.5)
    estimate.observe(0.1)
    assert estimate.seconds == pytest.approx(0.06)
    estimate.observe(0.1)
    assert estimate.seconds == pytest.approx(0.08)
    estimate.reset(0.03)
    assert estimate.seconds == 0.03
    with pytest.raises(ValueError):
        JobTime(0)


def test_a_pool_sheds_by_its_estimate_before_it_is_full() -> None:
    """A pool with room for 66 but an estimate of 0.5 s per job admits 4 and sheds the 5th."""
    pool = BoundedPool("test", workers=2, queue=64, max_wait=1.0, job_seconds=0.5)
    try:
        with ExitStack() as held:
            for _ in range(4):
                held.enter_context(pool.slot())
            with pytest.raises(Overloaded) as refused, pool.slot():
                pass
            assert refused.value.status == 503 and refused.value.retry_after == 1
            assert pool.in_flight == 4
            pool.job_time.reset(0.01)  # faster hashes: the same queue is now a short wait
            with pool.slot():
                assert pool.in_flight == 5
        assert pool.in_flight == 0
    finally:
        pool.shutdown()


async def test_a_pool_learns_its_job_time_from_the_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each job's run time on its thread (here a fake clock's 3 s) feeds the estimate."""
    ticks = iter([100.0, 103.0])
    monkeypatch.setattr(pools, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    pool = BoundedPool("test", workers=1, queue=8, max_wait=1.0, job_seconds=0.01)
    try:
        assert await pool.run(lambda: "done") == "done"
        assert pool.job_time.seconds == pytest.approx(0.01 + 0.2 * (3.0 - 0.01))
        # 0.61 s expected for one job alone: admitted; a second would be done after 1.2 s.
        with pool.slot(), pytest.raises(Overloaded), pool.slot():
            pass
    finally:
        pool.shutdown()


class CountingHasher:
    """Stands in for argon2: records what it is asked to hash; waits for `gate` if given."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: threading.Event | None = None

    def hash(self, password: str) -> str:
        self.calls.append(password)
        if self.gate is not None:
            self.gate.wait(10)
        return "$argon2id$fake"

    def verify(self, _hash: str, _password: str) -> bool:
        self.calls.append(_password)
        return False


def slow_hashing(app: Quart, seconds: float) -> CountingHasher:
    """The password pool believes a hash takes `seconds`, whatever the fake hashes take."""
    services = app.extensions["gapo"]
    hasher = CountingHasher()
    services.accounts.passwords._hasher = hasher
    services.password_pool.job_time.reset(seconds)
    services.password_pool.job_time.observe = lambda _seconds: None
    return hasher


async def test_signup_is_shed_at_once_when_the_estimated_wait_is_too_long(
    make_app: AppFactory,
) -> None:
    """One thread busy with a hash estimated at 5 s: a sign-up would wait 10 s, so it gets
    503 + Retry-After at once, nothing hashed or stored; with fast hashes it is admitted."""
    app = await make_app(password_workers=1, password_max_wait_ms=1000)
    hasher = slow_hashing(app, 0.001)
    pool = app.extensions["gapo"].password_pool
    client = app.test_client()
    before = await count_rows(app, "accounts")
    with pool.slot():  # someone else's hash
        pool.job_time.reset(5.0)
        response = await signup(client, "waiting")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert hasher.calls == []
        assert await count_rows(app, "accounts") == before
        assert await count_rows(app, "users") == 0
        assert pool.in_flight == 1

        pool.job_time.reset(0.01)
        response = await signup(client, "waiting")
        assert response.status_code == 302
        assert len(hasher.calls) == 1


async def test_retry_after_grows_with_the_queue_ahead(make_app: AppFactory) -> None:
    """Twenty hashes of 0.5 s ahead on two threads: come back in 5 s."""
    app = await make_app(password_workers=2, password_max_wait_ms=1000)
    slow_hashing(app, 0.001)
    pool = app.extensions["gapo"].password_pool
    with ExitStack() as held:
        for _ in range(20):
            held.enter_context(pool.slot())
        pool.job_time.reset(0.5)  # those twenty turn out slow
        response = await signup(app.test_client(), "late")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


async def test_login_gets_the_same_admission(make_app: AppFactory) -> None:
    """A login under the same estimate: 503 + Retry-After before any verification, no 500."""
    app = await make_app()
    client = app.test_client()
    assert (await signup(client, "minh")).status_code == 302
    await client.post("/logout", form={})
    hasher = slow_hashing(app, 0.001)
    pool = app.extensions["gapo"].password_pool
    with pool.slot(), pool.slot():  # both threads busy, with hashes of 5 s by the estimate
        pool.job_time.reset(5.0)
        response = await post_form(
            app.test_client(), "/login", {"login": "minh", "password": "a good long passphrase"}
        )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert hasher.calls == []


async def test_concurrent_signups_past_the_estimate_are_shed_whole(tmp_path: Path) -> None:
    """Many sign-ups at once with a slow estimate: some admitted, the rest 503, rows whole."""
    from instance.app import create_app
    from instance.db.migrate import migrate
    from tests.helpers.web import CSRF_RE, make_settings

    settings = make_settings(
        tmp_path / "data", password_workers=1, password_max_wait_ms=1000, signup_rate_per_hour=1000
    )
    await migrate(settings.database_url, settings.sqlite_path)
    async with create_app(settings).test_app() as test_app:
        app = test_app.app
        # Three admitted at once (0.9 s), the fourth would wait 1.2 s; the hashes are held
        # until the other seven have been answered, so the queue stays three long.
        hasher = slow_hashing(app, 0.3)
        hasher.gate = threading.Event()
        client = app.test_client()
        page = await client.get("/signup")
        token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]

        async def one(i: int) -> int:
            form = {
                "username": f"rush{i}",
                "email": f"rush{i}@example.org",
                "password": "a good long passphrase",
                "csrf_token": token,
            }
            response = await client.post("/signup", form=form)
            if response.status_code == 503:
                assert response.headers["Retry-After"]
            return int(response.status_code)

        tasks = [asyncio.create_task(one(i)) for i in range(10)]
        async with asyncio.timeout(10):
            while sum(task.done() for task in tasks) < 7:
                await asyncio.sleep(0.01)
        hasher.gate.set()
        statuses = await asyncio.gather(*tasks)
        assert sorted(statuses) == [302] * 3 + [503] * 7
        assert await count_rows(app, "users") == 3
        assert await count_rows(app, "accounts") == statuses.count(302) + 1  # + instance actor


async def _call(app: object, method: str, path: str) -> list[dict[str, object]]:
    """Calls the ASGI app `app` with one request; returns the messages it sent."""
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    await app(scope, receive, send)  # type: ignore[operator]
    return sent


async def test_the_middleware_refuses_before_the_app_and_holds_the_place_for_it() -> None:
    """In front of Quart: a refused POST /signup never reaches the app; an admitted one
    holds one place for the whole request, and the service's `slot()` uses that place."""
    from instance.web.hash_admission import HashAdmission

    pool = BoundedPool("test", workers=2, queue=64, max_wait=1.0, job_seconds=0.01)
    seen: list[int] = []

    async def inner(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["method"] == "POST":
            with pool.slot():  # what AccountService.signup does
                seen.append(pool.in_flight)
            seen.append(pool.in_flight)  # hashed: the place is free for the next one
        else:
            seen.append(pool.in_flight)
        await send({"type": "http.response.start", "status": 302, "headers": []})  # type: ignore[operator]

    app = HashAdmission(inner, lambda: pool)
    try:
        sent = await _call(app, "POST", "/signup")
        assert sent[0]["status"] == 302 and seen == [1, 0] and pool.in_flight == 0

        with pool.slot(), pool.slot():  # both threads busy…
            pool.job_time.reset(5.0)  # …with hashes of 5 s by the estimate
            sent = await _call(app, "POST", "/login")
            assert sent[0]["status"] == 503 and seen == [1, 0]
            assert (b"retry-after", b"5") in sent[0]["headers"]  # type: ignore[operator]

            sent = await _call(app, "GET", "/signup")  # the form itself is never refused
            assert sent[0]["status"] == 302 and seen == [1, 0, 2]
    finally:
        pool.shutdown()


async def test_through_the_real_app_a_sign_up_holds_one_place(make_app: AppFactory) -> None:
    """The whole ASGI stack (body guard, admission, Quart): the place taken in front of Quart
    is the one the hash runs on, and it is free again once the sign-up is answered."""
    from urllib.parse import urlencode

    from tests.helpers.web import CSRF_RE

    app = await make_app()
    pool = app.extensions["gapo"].password_pool
    places_while_hashing: list[int] = []

    class Recording(CountingHasher):
        def hash(self, password: str) -> str:
            places_while_hashing.append(pool.in_flight)
            return super().hash(password)

    app.extensions["gapo"].accounts.passwords._hasher = Recording()
    client = app.test_client()
    page = await client.get("/signup")
    token = CSRF_RE.search(await page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    cookie = page.headers["Set-Cookie"].split(";", 1)[0].encode()
    body = urlencode(
        {
            "username": "viaasgi",
            "email": "viaasgi@example.org",
            "password": "a good long passphrase",
            "csrf_token": token,
        }
    ).encode()
    sent: list[dict[str, object]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/signup",
        "raw_path": b"/signup",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", cookie),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
        "state": {},
    }
    await app.asgi_app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 302
    assert places_while_hashing == [1]
    assert pool.in_flight == 0
