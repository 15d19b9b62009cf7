"""The API while its PostgreSQL is frozen (every server process stopped where it stands): the
connections stay open and nothing answers, so only the time limits end a request."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import httpx
import pytest

from tests.integration.api.api_service import SHORT_TIME_LIMITS, ApiService
from tests.integration.outages.world import assert_unavailable, check_in, clinic_with_goal
from tests.private_servers import PrivatePostgres

COMMAND_TIMEOUT = float(SHORT_TIME_LIMITS["DATABASE_COMMAND_TIMEOUT_SECONDS"])
# For the scheduling of a shared machine; without time limits, a request on a frozen server takes
# as long as the server stays frozen.
SLACK_SECONDS = 1.0
# A statement's own limit, then asyncpg's cancel request, each bounded by the command timeout;
# one more for a batch already on its way when the request came.
WRITE_BOUND_SECONDS = 3 * COMMAND_TIMEOUT + SLACK_SECONDS
READY_BUDGET_SECONDS = 2.0
MAX_CONCURRENT = 4
EXCESS = 3


@pytest.fixture
async def api(own_postgres: PrivatePostgres, tmp_path: Path) -> AsyncIterator[ApiService]:
    service = ApiService(
        own_postgres.url,
        tmp_path / "api.log",
        1,
        API_MAX_CONCURRENT_REQUESTS=str(MAX_CONCURRENT),
        **SHORT_TIME_LIMITS,
    )
    try:
        await service.until_live()
        yield service
    finally:
        own_postgres.thaw()
        service.kill()


async def _timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await request
    return answer, time.monotonic() - started


async def test_a_frozen_database_gives_503s_within_the_time_limits_and_the_api_recovers(
    own_postgres: PrivatePostgres, api: ApiService
) -> None:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        goal = await clinic_with_goal(client, own_postgres.url)
        assert (await check_in(client, goal)).status_code == 200

        own_postgres.freeze()
        answer, took = await _timed(check_in(client, goal))
        assert_unavailable(answer)
        assert took < WRITE_BOUND_SECONDS

        ready, took = await _timed(client.get("/health/ready"))
        assert ready.status_code == 503
        assert took < READY_BUDGET_SECONDS + SLACK_SECONDS
        scraped, took = await _timed(client.get("/metrics"))
        assert scraped.status_code == 200
        assert took < READY_BUDGET_SECONDS + SLACK_SECONDS
        assert (await client.get("/health/live")).status_code == 200

        own_postgres.thaw()
        deadline = time.monotonic() + 20
        while (await check_in(client, goal)).status_code != 200:
            assert time.monotonic() < deadline, api.log_tail()
            await asyncio.sleep(0.1)
        assert (await client.get("/health/ready")).status_code == 200


async def test_past_its_bound_on_concurrent_requests_the_api_answers_503_at_once(
    own_postgres: PrivatePostgres, api: ApiService
) -> None:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        goal = await clinic_with_goal(client, own_postgres.url)
        own_postgres.freeze()
        # All sent at once: the first MAX_CONCURRENT to arrive are held by the frozen database
        # until their time limits end them, long after the others have arrived.
        answers = await asyncio.gather(
            *(_timed(check_in(client, goal)) for _ in range(MAX_CONCURRENT + EXCESS))
        )

    refused = [(answer, took) for answer, took in answers if answer.json()["code"] == "overloaded"]
    admitted = [answer for answer, _ in answers if answer.json()["code"] != "overloaded"]
    assert len(refused) == EXCESS
    for answer, took in refused:
        assert_unavailable(answer, "overloaded")
        # Before any admitted request could end: those wait out the time limits.
        assert took < COMMAND_TIMEOUT
    for answer in admitted:
        assert_unavailable(answer)
