import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from infra.config import Settings
from infra.db.connection import Connection
from infra.db.pool import (
    clone_database,
    drop_database,
    url_for_database,
)
from infra.db.roles import PROJECTIONS
from services.cli.migrations import run_migrations
from tests.servers import postgres_server, redis_server, service_url

# One run's databases share a prefix, so a crashed run's leftovers are easy to spot and drop.
RUN_PREFIX = f"goals_test_{uuid.uuid4().hex[:8]}"


def migration_settings(admin_url: str) -> Settings:
    """What `goals migrate` reads, for the database that `admin_url` names."""
    return Settings(database_url=service_url(admin_url), migration_database_url=admin_url)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A login that may create databases and roles: the tests' migration login."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def migrated_template(postgres_url: str) -> AsyncIterator[str]:
    """A database migrated once per run, as `goals migrate` does; each test gets a fresh copy."""
    name = f"{RUN_PREFIX}_template"
    url = url_for_database(postgres_url, name)
    await run_migrations(migration_settings(url))
    yield name
    await drop_database(url)


@pytest.fixture(scope="session")
def shared_redis_url() -> Iterator[str]:
    """The suite's Redis, for tests that start the worker service (each with a namespace of its
    own)."""
    with redis_server() as url:
        yield url


@pytest.fixture
async def admin_database_url(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    """The test's own database, as the migration login: for tests that tamper on purpose."""
    url = url_for_database(postgres_url, f"{RUN_PREFIX}_{uuid.uuid4().hex[:12]}")
    await clone_database(url, migrated_template)
    yield url
    await drop_database(url)


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    """A database the module's tests share, as the service connects to it: for tests whose
    services take seconds to start, and which leave the database as any test may find it."""
    url = url_for_database(postgres_url, f"{RUN_PREFIX}_module_{uuid.uuid4().hex[:8]}")
    await clone_database(url, migrated_template)
    yield service_url(url)
    await drop_database(url)


@pytest.fixture
def database_url(admin_database_url: str) -> str:
    """The test's own database, as the API and the workers connect to it."""
    return service_url(admin_database_url)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=20) as opened:
        yield opened


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with pool.acquire() as acquired:
        yield acquired


@pytest.fixture
async def admin_conn(admin_database_url: str) -> AsyncIterator[Connection]:
    """A connection that may do anything: to set up what the service could not do itself."""
    connection = await asyncpg.connect(admin_database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def rebuild_conn(admin_database_url: str) -> AsyncIterator[Connection]:
    """A connection as `goals projections rebuild` opens it."""
    connection = await asyncpg.connect(admin_database_url, server_settings={"role": PROJECTIONS})
    try:
        yield connection
    finally:
        await connection.close()
