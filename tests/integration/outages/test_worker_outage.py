"""The worker service (the relay and the Dramatiq workers) across PostgreSQL outages: it starts
without the database, rides out a crash, and the projections catch up by themselves."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.api.api_service import SHORT_TIME_LIMITS
from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.processes import WorkerService
from tests.integration.worker.projection import (
    wait_for_convergence,
    wait_for_relay,
    wait_for_service,
    wait_until,
)
from tests.private_servers import PrivatePostgres

GOALS = 5
BOOT_SECONDS = 20
CONVERGE_SECONDS = 20
# Not an assertion: how long the database stays frozen before it crashes, long enough for the
# relay to be caught in the middle of a pass.
FROZEN_SECONDS = 2.5


@pytest.fixture
async def pool(own_postgres: PrivatePostgres) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(own_postgres.url, min_size=1, max_size=4) as opened:
        yield opened


async def _caught_up(service: WorkerService, pool: asyncpg.Pool, goals: int) -> None:
    await pool.expire_connections()  # those of before the outage are gone with the server
    goal_ids = await set_goals(pool, goals)
    await CheckInWriter(pool, goal_ids).write_rounds(2)
    assert await wait_for_convergence(pool, CONVERGE_SECONDS) == [], service.log_tail()
    checkpoint, head = await wait_for_relay(pool, CONVERGE_SECONDS)
    assert checkpoint == head
    assert service.returncode is None, service.log_tail()


async def test_the_worker_service_starts_while_the_database_is_down_and_catches_up(
    own_postgres: PrivatePostgres, worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    own_postgres.stop()
    service = worker_services.start(**SHORT_TIME_LIMITS)

    async def waiting_for_the_database() -> bool:
        return service.workers_ready() and bool(service.logged("database_unavailable"))

    assert await wait_until(waiting_for_the_database, BOOT_SECONDS), service.log_tail()
    assert service.returncode is None, service.log_tail()

    own_postgres.start()
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    await _caught_up(service, pool, GOALS)
    assert service.logged("database_available_again")


async def test_the_worker_service_rides_out_a_database_crash(
    own_postgres: PrivatePostgres, worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    service = worker_services.start(**SHORT_TIME_LIMITS)
    assert await wait_for_service(service, pool, BOOT_SECONDS)
    await _caught_up(service, pool, GOALS)

    own_postgres.freeze()
    await asyncio.sleep(FROZEN_SECONDS)
    own_postgres.crash_frozen()

    async def outage_seen() -> bool:
        return bool(service.logged("database_unavailable"))

    assert await wait_until(outage_seen, BOOT_SECONDS), service.log_tail()
    own_postgres.start()
    await _caught_up(service, pool, GOALS)
    # The relay and each worker process say it once, each for itself.
    said_by = [line["pid"] for line in service.logged("database_unavailable")]
    assert len(said_by) == len(set(said_by)), service.log_tail()
    assert service.logged("database_available_again")
