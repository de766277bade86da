"""`/health` for load balancers and `/metrics` for Prometheus, answered in front of Quart."""

from __future__ import annotations

import json
import re

from instance.config import load_settings
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.ids import now
from instance.web.ops_endpoints import OpsEndpoints
from tests.helpers.web import AppFactory, post_form, signup

TOKEN = {"Authorization": "Bearer s3cret-token"}
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def _samples(text: str) -> dict[str, float]:
    """`name{labels}` → value, for every sample line; fails on a malformed line."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ \S", line), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        found[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return found


async def test_health_answers_without_session_or_page_hooks(make_app: AppFactory) -> None:
    """200 and a JSON status while the database answers; no cookie and none of the page
    headers (Quart and its hooks never ran); HEAD too; never cached."""
    app = await make_app()
    client = app.test_client()
    response = await client.get("/health")
    assert response.status_code == 200
    assert json.loads(await response.get_data()) == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert (await client.head("/health")).status_code == 200
    assert (await client.post("/health")).status_code == 405  # Quart's, as for any route


async def test_health_is_503_with_retry_after_when_the_database_is_gone(
    make_app: AppFactory,
) -> None:
    """With the database closed under it, the process says it cannot serve: 503 and
    Retry-After, so the load balancer sends requests elsewhere."""
    app = await make_app()
    await app.extensions["gapo"].db.close()
    response = await app.test_client().get("/health")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(await response.get_data()) == {"status": "unavailable"}


async def test_health_is_503_before_the_services_are_open() -> None:
    """A process still starting (no services yet) is not ready."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def never(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("the app behind must not be called")

    ops = OpsEndpoints(never, lambda: None, load_settings(environ={}))
    scope = {"type": "http", "method": "GET", "path": "/health", "headers": []}
    await ops(scope, None, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"5") in sent[0]["headers"]


async def test_metrics_is_404_without_a_token_and_401_with_a_wrong_one(
    make_app: AppFactory,
) -> None:
    """No GAPO_METRICS_TOKEN: /metrics does not exist. With one, only its bearer reads it."""
    closed = await make_app()
    assert (await closed.test_client().get("/metrics", headers=TOKEN)).status_code == 404
    app = await make_app(metrics_token="s3cret-token")
    client = app.test_client()
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert (await client.get("/metrics", headers=TOKEN)).status_code == 200


async def test_metrics_count_requests_queue_and_failing_hosts(make_app: AppFactory) -> None:
    """The exposition parses as Prometheus text 0.0.4 and counts what happened: requests by
    status (health checks left out), a histogram whose buckets add up, the queued jobs of a
    post by kind, deliveries by outcome, and a host whose breaker is open."""
    app = await make_app(metrics_token="s3cret-token")
    client = app.test_client()
    await signup(client, "lan")
    await post_form(client, "/posts", {"text": "hello"}, csrf_from="/home")
    await client.get("/no-such-page")
    await client.get("/health")
    services = app.extensions["gapo"]
    health = {"consecutive_failures": 12, "open_until": now() + 600, "cooldown": 600}
    async with services.db.transaction() as tx:
        await hosts_q.set_health(tx, "down.example", json.dumps(health), now())
        for n, outcome in enumerate(("done", "dead", "retrying", "retrying")):
            job_id = services.ids.next_id()
            await jobs_q.enqueue(
                tx, job_id=job_id, kind="deliver", payload="{}", host="down.example",
                run_at=now() + 60, now=now(),
            )  # fmt: skip
            if outcome == "done":
                await jobs_q.finish(tx, job_id, now())
            elif outcome == "dead":
                await jobs_q.fail(tx, job_id, attempts=8, error="gone", now=now())
            else:
                await jobs_q.retry_later(tx, job_id, attempts=n, run_at=now() + 60, error="503")

    response = await client.get("/metrics", headers=TOKEN)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(await response.get_data(as_text=True))
    assert samples['gapo_http_requests_total{status="404"}'] == 1
    assert samples['gapo_http_requests_total{status="302"}'] >= 2  # sign-up and post
    statuses = sum(v for k, v in samples.items() if k.startswith("gapo_http_requests_total"))
    assert samples["gapo_http_request_duration_seconds_count"] == statuses
    buckets = [
        v for k, v in samples.items() if k.startswith("gapo_http_request_duration_seconds_bucket")
    ]
    assert buckets == sorted(buckets) and buckets[-1] == statuses
    assert samples['gapo_jobs{kind="fanout",state="queued"}'] == 1
    assert samples['gapo_failing_hosts{state="open"}'] == 1
    assert samples['gapo_deliveries{outcome="done"}'] == 1
    assert samples['gapo_deliveries{outcome="dead"}'] == 1
    assert samples['gapo_deliveries{outcome="retrying"}'] == 2
    assert samples['gapo_jobs{kind="deliver",state="queued"}'] == 2
    assert "gapo_redis_up" not in " ".join(samples)  # no Redis configured
