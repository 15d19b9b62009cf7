"""Rate limits per user, shared by every API process through Redis, and off while Redis is."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.api_service import ApiService
from tests.integration.api.test_serving import _server_side_inodes, _socket_inodes
from tests.integration.api.world import TOKEN_KEY, Clinic, Person
from tests.private_servers import PrivateRedis, private_redis

LIMIT = 4
READ = "/v1/me/goals"


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis.log") as server:
        yield server


def _limited(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        rate_limit_requests=LIMIT,
        rate_limit_window="minute",
    )


async def test_a_user_over_the_limit_waits_while_another_clinic_does_not(
    database_url: str, redis: PrivateRedis, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with AsyncTestClient(create_app(_limited(database_url, redis.url))) as api:
        for _ in range(LIMIT):
            assert (await api.get(READ, headers=clinic.client.headers)).status_code == 200

        refused = await api.get(READ, headers=clinic.client.headers)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60

        assert (await api.get(READ, headers=other_clinic.client.headers)).status_code == 200
        for unlimited in ("/health/live", "/schema/openapi.json"):
            answered = await api.get(unlimited, headers=clinic.client.headers)
            assert answered.status_code == 200, unlimited


async def _get_on(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], who: Person
) -> int:
    """GET on one kept-alive connection, so that the test knows which process answers."""
    reader, writer = connection
    writer.write(
        f"GET {READ} HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer {who.token}\r\n\r\n".encode()
    )
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = next(
        int(line.split(":", 1)[1])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(head.split(" ", 2)[1])


async def _process_of(local_port: int, server_port: int, workers: list[int]) -> int:
    """The worker that accepted the connection from `local_port`, once one has."""
    deadline = time.monotonic() + 5
    while True:
        inode = _server_side_inodes(server_port).get(local_port)
        owners = [pid for pid in workers if inode in _socket_inodes(pid)]
        if owners:
            return owners[0]
        assert time.monotonic() < deadline, "no worker accepted the connection"
        await asyncio.sleep(0.01)


@pytest.fixture
async def two_processes(
    database_url: str, redis: PrivateRedis, tmp_path: Path, clinic: Clinic
) -> AsyncIterator[ApiService]:
    service = ApiService(
        database_url,
        tmp_path / "api.log",
        2,
        REDIS_URL=redis.url,
        RATE_LIMIT_REQUESTS=str(LIMIT),
        RATE_LIMIT_WINDOW="minute",
    )
    try:
        await service.until_live()
        yield service
    finally:
        service.kill()


async def test_the_limit_is_shared_by_every_api_process(
    two_processes: ApiService, clinic: Clinic
) -> None:
    workers = two_processes.workers()
    by_process: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
    deadline = time.monotonic() + 10
    while len(by_process) < len(workers):
        assert time.monotonic() < deadline, "the kernel gave every connection to one process"
        connection = await asyncio.open_connection("127.0.0.1", two_processes.port)
        local_port = connection[1].get_extra_info("sockname")[1]
        process = await _process_of(local_port, two_processes.port, workers)
        if process in by_process:
            connection[1].close()
        else:
            by_process[process] = connection
    first, second = by_process.values()

    for _ in range(LIMIT // 2):
        assert await _get_on(first, clinic.client) == 200
        assert await _get_on(second, clinic.client) == 200
    # Each process has served only half the limit: counted apart, both would still answer.
    assert await _get_on(first, clinic.client) == 429
    assert await _get_on(second, clinic.client) == 429


async def test_requests_are_served_unlimited_while_redis_is_down(
    database_url: str, redis: PrivateRedis, tmp_path: Path, clinic: Clinic
) -> None:
    service = ApiService(
        database_url,
        tmp_path / "api.log",
        1,
        REDIS_URL=redis.url,
        RATE_LIMIT_REQUESTS=str(LIMIT),
        RATE_LIMIT_WINDOW="minute",
    )
    try:
        await service.until_live()
        async with httpx.AsyncClient(base_url=service.base_url, timeout=5) as client:
            redis.stop()
            for _ in range(LIMIT * 3):
                answered = await client.get(READ, headers=clinic.client.headers)
                assert answered.status_code == 200, answered.text
            assert len(service.logged("rate_limits_off_redis_unreachable")) == 1

            redis.start()
            deadline = time.monotonic() + 10
            while (await client.get(READ, headers=clinic.client.headers)).status_code != 429:
                assert time.monotonic() < deadline, "the limits never came back with Redis"
            assert len(service.logged("rate_limits_back")) == 1
    finally:
        service.kill()


async def test_tokens_that_prove_no_one_are_limited_by_their_address(
    database_url: str, redis: PrivateRedis, clinic: Clinic
) -> None:
    async with AsyncTestClient(create_app(_limited(database_url, redis.url))) as api:
        for guess in range(LIMIT):
            answered = await api.get(READ, headers={"Authorization": f"Bearer guess-{guess}"})
            assert answered.status_code == 401

        refused = await api.get(READ, headers={"Authorization": "Bearer guess-again"})
        assert refused.status_code == 429
        # A person's own token is counted apart from the guesses sent from the same address.
        assert (await api.get(READ, headers=clinic.client.headers)).status_code == 200
