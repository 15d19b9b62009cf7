from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.worker.launcher import WorkerServices
from tests.private_servers import (
    PrivatePostgres,
    migrated_cluster,
    postgres_binaries,
    private_postgres,
)


@pytest.fixture(scope="session")
async def postgres_cluster() -> AsyncIterator[tuple[Path, Path]]:
    """PostgreSQL's programs, and a migrated cluster made once per run for each test to copy."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL programs here to run a server of the test's own")
    async with migrated_cluster(binaries) as data:
        yield binaries, data


@pytest.fixture
async def own_postgres(postgres_cluster: tuple[Path, Path]) -> AsyncIterator[PrivatePostgres]:
    """A migrated PostgreSQL that only this test uses, so that it may stop or freeze it."""
    with private_postgres(*postgres_cluster) as server:
        yield server


@pytest.fixture
def worker_services(
    own_postgres: PrivatePostgres, shared_redis_url: str, tmp_path: Path
) -> Iterator[WorkerServices]:
    """Worker services on the test's own PostgreSQL, with a namespace of their own in Redis."""
    services = WorkerServices(own_postgres.url, shared_redis_url, tmp_path)
    try:
        yield services
    finally:
        services.close()
