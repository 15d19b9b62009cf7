"""Readiness and metrics report a broker that is down and a relay that is stuck."""

import os
import re
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.world import TOKEN_KEY
from tests.integration.worker.histories import set_goals
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.projection import wait_for_convergence, wait_for_service
from tests.private_servers import PrivateRedis
from tests.waiting import wait_until

BOOT_SECONDS = 20
REPORT_SECONDS = 15
CONVERGE_SECONDS = 30
STALE_AFTER_SECONDS = 2


@asynccontextmanager
async def api_for(database_url: str, redis_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        relay_stale_after_seconds=STALE_AFTER_SECONDS,
    )
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


def metric(text: str, name: str) -> float | None:
    """The value of the unlabelled sample `name` in Prometheus text, if there is one."""
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return None if found is None else float(found.group(1))


async def readiness_until(
    api: AsyncTestClient[Litestar], holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Polls readiness until `holds` says yes of its body; the last body seen."""
    seen: dict[str, Any] = {}

    async def answered() -> bool:
        nonlocal seen
        response = await api.get("/health/ready")
        seen = {"http": response.status_code, **response.json()}
        return holds(seen)

    await wait_until(answered, REPORT_SECONDS)
    return seen


def all_ok(body: dict[str, Any]) -> bool:
    return body["status"] == "ok"


async def test_readiness_and_metrics_report_a_broker_that_is_down(
    worker_services: WorkerServices,
    own_redis: PrivateRedis,
    database_url: str,
    pool: asyncpg.Pool,
) -> None:
    service = worker_services.start(redis_url=own_redis.url)
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    async with api_for(database_url, own_redis.url) as api:
        healthy = await readiness_until(api, all_ok)
        assert healthy["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "relay": "ok",
            "broker": "ok",
        }
        assert metric((await api.get("/metrics")).text, "goals_broker_up") == 1

        own_redis.stop()
        # The relay fails only once it has something to hand over.
        await set_goals(pool, 3)

        def relay_failing(body: dict[str, Any]) -> bool:
            return body["checks"]["relay"].startswith("failing for")

        down = await readiness_until(api, relay_failing)
        metrics = (await api.get("/metrics")).text

        # Writes still work: degraded, and still in rotation.
        assert down["http"] == 200
        assert down["status"] == "degraded"
        assert down["checks"]["broker"].startswith("unreachable")
        assert down["checks"]["relay"].startswith("failing for"), down
        assert metric(metrics, "goals_broker_up") == 0
        assert (metric(metrics, "goals_relay_failed_passes_total") or 0) > 0
        assert (metric(metrics, "goals_relay_failing_seconds") or 0) > 0

        own_redis.start()
        back = await readiness_until(api, all_ok)
        metrics = (await api.get("/metrics")).text

    assert back["status"] == "ok", back
    assert metric(metrics, "goals_broker_up") == 1
    assert metric(metrics, "goals_relay_failing_seconds") == 0
    assert await wait_for_convergence(pool, CONVERGE_SECONDS) == []


async def test_readiness_and_metrics_report_a_frozen_relay(
    worker_services: WorkerServices, database_url: str, pool: asyncpg.Pool
) -> None:
    service = worker_services.start()
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    async with api_for(database_url, worker_services.redis_url) as api:
        assert all_ok(await readiness_until(api, all_ok))

        os.kill(service.pid, signal.SIGSTOP)
        try:

            def relay_stale(body: dict[str, Any]) -> bool:
                return body["checks"]["relay"].startswith("stale")

            frozen = await readiness_until(api, relay_stale)
            metrics = (await api.get("/metrics")).text
        finally:
            os.kill(service.pid, signal.SIGCONT)

        assert frozen["http"] == 200
        assert frozen["status"] == "degraded"
        assert frozen["checks"]["relay"].startswith("stale: last pass"), frozen
        assert (metric(metrics, "goals_relay_last_pass_age_seconds") or 0) > STALE_AFTER_SECONDS
        assert all_ok(await readiness_until(api, all_ok))
