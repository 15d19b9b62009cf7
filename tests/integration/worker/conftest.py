from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.worker.launcher import WorkerServices
from tests.private_servers import PrivateRedis, private_redis


@pytest.fixture
def worker_services(
    database_url: str, shared_redis_url: str, tmp_path: Path
) -> Iterator[WorkerServices]:
    services = WorkerServices(database_url, shared_redis_url, tmp_path)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis that only this test uses, so that it may stop and restart it."""
    with private_redis(tmp_path / "redis.log") as server:
        yield server
