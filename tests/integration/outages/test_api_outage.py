"""The API while its PostgreSQL is down: 503s that say so, one log line, and no restart needed."""

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.api_service import SHORT_TIME_LIMITS, ApiService
from tests.integration.outages.world import (
    GoalOfClinic,
    assert_unavailable,
    check_in,
    clinic_with_goal,
    wait_until,
)
from tests.private_servers import PrivatePostgres

RECOVERY_SECONDS = 20


@pytest.fixture
async def one_worker(own_postgres: PrivatePostgres, tmp_path: Path) -> AsyncIterator[ApiService]:
    api = ApiService(own_postgres.url, tmp_path / "api.log", 1, **SHORT_TIME_LIMITS)
    try:
        await api.until_live()
        yield api
    finally:
        api.kill()


async def _back(client: httpx.AsyncClient, goal: GoalOfClinic) -> bool:
    return (await check_in(client, goal)).status_code == 200


async def test_while_the_database_is_down_requests_answer_503_and_the_outage_is_logged_once(
    own_postgres: PrivatePostgres, one_worker: ApiService
) -> None:
    async with httpx.AsyncClient(base_url=one_worker.base_url, timeout=10) as client:
        goal = await clinic_with_goal(client, own_postgres.url)
        assert (await check_in(client, goal)).status_code == 200
        headers = goal.clinic.client.headers

        own_postgres.stop()
        for _ in range(5):
            assert_unavailable(await check_in(client, goal))
            assert_unavailable(await client.get(f"/v1/goals/{goal.goal_id}", headers=headers))
            assert_unavailable(await client.get("/v1/me/goals", headers=headers))
        assert (await client.get("/health/live")).status_code == 200
        scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert "goals_database_up 0" in scraped.text
        assert (await client.get("/health/ready")).status_code == 503

        own_postgres.start()
        await wait_until(lambda: _back(client, goal), RECOVERY_SECONDS)
        scraped = await client.get("/metrics")
        assert "goals_database_up 1" in scraped.text

        async def recovery_logged() -> bool:
            return bool(one_worker.logged("database_available_again"))

        await wait_until(recovery_logged, RECOVERY_SECONDS)

    assert len(one_worker.logged("database_unavailable")) == 1, one_worker.log_tail()
    assert len(one_worker.logged("database_available_again")) == 1
    errors = [record for record in one_worker.log_records() if record.get("level") == "error"]
    assert errors == []


async def test_a_worker_killed_while_the_database_is_down_is_replaced_and_serves_once_it_is_back(
    own_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    api = ApiService(own_postgres.url, tmp_path / "api.log", 2, **SHORT_TIME_LIMITS)
    try:
        await api.until_live()
        async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:
            goal = await clinic_with_goal(client, own_postgres.url)
            own_postgres.stop()
            victim = api.workers()[0]
            os.kill(victim, signal.SIGKILL)

            async def replaced() -> bool:
                workers = api.workers()
                return len(workers) == api.worker_count and victim not in workers

            await wait_until(replaced, RECOVERY_SECONDS)
            await api.until_live()
            assert_unavailable(await check_in(client, goal))

            own_postgres.start()
            await wait_until(lambda: _back(client, goal), RECOVERY_SECONDS)
            # Every worker serves again: as many check-ins in a row as there are workers, and
            # more, all go in.
            for _ in range(4 * api.worker_count):
                answer = await check_in(client, goal)
                assert answer.status_code == 200, answer.text
        assert api.returncode is None
    finally:
        api.kill()


async def test_an_api_started_while_the_database_is_down_serves_once_it_is_back(
    own_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    own_postgres.stop()
    api = ApiService(own_postgres.url, tmp_path / "api.log", 1, **SHORT_TIME_LIMITS)
    try:
        await api.until_live()
        async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:
            assert_unavailable(
                await client.get("/v1/me/goals", headers={"Authorization": "Bearer x"})
            )
            own_postgres.start()
            goal = await clinic_with_goal(client, own_postgres.url)
            assert (await check_in(client, goal)).status_code == 200
    finally:
        api.kill()


async def test_a_database_that_does_not_exist_stops_the_api_with_an_error(
    own_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    """Not an outage but a configuration error: waiting would not mend it."""
    missing = own_postgres.url.rsplit("/", 1)[0] + "/no_such_database"
    api = ApiService(missing, tmp_path / "api.log", 1, **SHORT_TIME_LIMITS)
    try:
        exit_code = await api.wait_for_exit(within=RECOVERY_SECONDS)
    finally:
        api.kill()

    assert exit_code not in (None, 0)
    assert "no_such_database" in api.log_tail()
