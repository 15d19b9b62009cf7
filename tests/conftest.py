import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.db.migrate import migrate
from infra.db.pool import (
    clone_database,
    create_database_if_missing,
    drop_database,
    url_for_database,
)
from tests.servers import postgres_server

# One run's databases share a prefix, so a crashed run's leftovers are easy to spot and drop.
RUN_PREFIX = f"goals_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_template(postgres_url: str) -> AsyncIterator[str]:
    """A database migrated once per run; each test gets a fresh copy of it."""
    name = f"{RUN_PREFIX}_template"
    url = url_for_database(postgres_url, name)
    await create_database_if_missing(url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield name
    await drop_database(url)


@pytest.fixture
async def database_url(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    url = url_for_database(postgres_url, f"{RUN_PREFIX}_{uuid.uuid4().hex[:12]}")
    await clone_database(url, migrated_template)
    yield url
    await drop_database(url)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=20) as opened:
        yield opened


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with pool.acquire() as acquired:
        yield acquired
