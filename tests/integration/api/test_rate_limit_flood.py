"""A caller flooding the API past their limit: refused at once, ahead of everything else, so
that other callers are served; and a burst bounded as well as a window."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.api_service import ApiService
from tests.integration.api.world import TOKEN_KEY, Clinic
from tests.private_servers import PrivateRedis, private_redis

READ = "/v1/me/goals"


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis.log") as server:
        yield server


def _limited(database_url: str, redis_url: str, **limits: object) -> Settings:
    """Limits counted in `redis_url`; refusals answered at once unless `limits` say otherwise."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        rate_limit_window="minute",
        **{"rate_limit_hold_seconds": 0, **limits},  # type: ignore[arg-type]
    )


async def _refusals_recorded(pool: asyncpg.Pool, prefix: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM access_log WHERE correlation_id LIKE $1 AND status = 429",
            f"{prefix}%",
        )
    )


async def test_a_flood_past_the_limit_is_refused_before_it_reaches_a_route(
    database_url: str, redis: PrivateRedis, pool: asyncpg.Pool, clinic: Clinic
) -> None:
    limit, flood = 3, 40
    settings = _limited(database_url, redis.url, rate_limit_requests=limit)
    async with AsyncTestClient(create_app(settings)) as api:
        for _ in range(limit):
            assert (await api.get(READ, headers=clinic.client.headers)).status_code == 200
        first = await api.get(READ, headers={**clinic.client.headers, "X-Request-ID": "flood-0"})
        refusals = [
            await api.get(READ, headers={**clinic.client.headers, "X-Request-ID": f"flood-{n}"})
            for n in range(1, flood + 1)
        ]
        fhir = await api.get(
            f"/fhir/r4/Goal?patient={clinic.client.id}", headers=clinic.client.headers
        )

    assert first.status_code == 429
    for refused in refusals:
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.content == first.content
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == str(limit)
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["x-request-id"].startswith("flood-")
    assert fhir.status_code == 429
    assert fhir.headers["content-type"] == "application/fhir+json"
    assert fhir.json()["issue"][0]["details"]["coding"][0]["code"] == "rate_limited"
    # Only the first refusal went through a route (and its access record); the flood after it
    # was turned away before routing.
    assert await _refusals_recorded(pool, "flood-") == 1


async def test_a_flood_holds_no_room_that_another_caller_needs(
    database_url: str, redis: PrivateRedis, tmp_path: Path, clinic: Clinic, other_clinic: Clinic
) -> None:
    # Enough for the other clinic's requests, all in a burst.
    limit, room, flooders, rounds = 30, 4, 32, 6
    service = ApiService(
        database_url,
        tmp_path / "api.log",
        1,
        REDIS_URL=redis.url,
        RATE_LIMIT_REQUESTS=str(limit),
        RATE_LIMIT_WINDOW="minute",
        RATE_LIMIT_BURST="0",
        API_MAX_CONCURRENT_REQUESTS=str(room),
    )
    try:
        await service.until_live()
        limits = httpx.Limits(max_connections=flooders + room)
        async with httpx.AsyncClient(base_url=service.base_url, timeout=10, limits=limits) as api:
            for _ in range(limit):
                assert (await api.get(READ, headers=clinic.client.headers)).status_code == 200
            assert (await api.get(READ, headers=clinic.client.headers)).status_code == 429
            flooding = True

            async def flood() -> set[int]:
                statuses = set()
                while flooding:
                    statuses.add((await api.get(READ, headers=clinic.client.headers)).status_code)
                return statuses

            floods = [asyncio.create_task(flood()) for _ in range(flooders)]
            others: list[int] = []
            for _ in range(rounds):
                answers = await asyncio.gather(
                    *(api.get(READ, headers=other_clinic.client.headers) for _ in range(room))
                )
                others += [answer.status_code for answer in answers]
            flooding = False
            flooded = set().union(*await asyncio.gather(*floods))
    finally:
        service.kill()

    # The other clinic's requests never found the process full of the flood's refusals.
    assert others == [200] * (room * rounds)
    assert flooded == {429}


async def test_a_client_that_ignores_retry_after_gets_one_answer_per_hold(
    database_url: str, redis: PrivateRedis, clinic: Clinic
) -> None:
    limit, hold, flooding_seconds = 2, 0.5, 1.0
    settings = _limited(
        database_url, redis.url, rate_limit_requests=limit, rate_limit_hold_seconds=hold
    )
    async with AsyncTestClient(create_app(settings)) as api:
        for _ in range(limit):
            assert (await api.get(READ, headers=clinic.client.headers)).status_code == 200
        assert (await api.get(READ, headers=clinic.client.headers)).status_code == 429
        refusals = []
        began = time.monotonic()
        while time.monotonic() - began < flooding_seconds:
            refusals.append(await api.get(READ, headers=clinic.client.headers))

    assert {refused.status_code for refused in refusals} == {429}
    assert all(int(refused.headers["retry-after"]) >= 1 for refused in refusals)
    # One answer per hold, and one more begun before the last hold ended: not one per
    # round trip, which answered hundreds in the same second.
    assert len(refusals) <= flooding_seconds / hold + 1


async def test_a_burst_is_bounded_within_the_window(
    database_url: str, redis: PrivateRedis, clinic: Clinic
) -> None:
    burst = 3
    settings = _limited(database_url, redis.url, rate_limit_requests=600, rate_limit_burst=burst)
    async with AsyncTestClient(create_app(settings)) as api:
        for _ in range(5):
            began = time.time()
            statuses = [
                (await api.get(READ, headers=clinic.client.headers)).status_code
                for _ in range(burst + 1)
            ]
            if int(time.time()) == int(began):
                break  # all in one second of the clock: the burst's one window
            await asyncio.sleep(1.0)  # a fresh second, and a try within it
        else:
            pytest.fail("no try fitted in one second of the clock")
        refused = await api.get(READ, headers=clinic.client.headers)

    assert statuses == [200] * burst + [429]
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == f"{burst}; w=1"
    assert refused.json()["code"] == "rate_limited"
