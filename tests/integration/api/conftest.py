from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from tests.integration.api.live_server import serving
from tests.integration.api.world import Clinic, app_settings, build_clinic


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AsyncTestClient]:
    settings = app_settings(database_url)
    async with AsyncTestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
async def clinic(api: AsyncTestClient, pool: asyncpg.Pool) -> Clinic:
    return await build_clinic(api, pool, "north")


@pytest.fixture
async def other_clinic(api: AsyncTestClient, pool: asyncpg.Pool) -> Clinic:
    return await build_clinic(api, pool, "south")


@pytest.fixture(scope="module")
async def module_api(module_database_url: str) -> AsyncIterator[AsyncTestClient]:
    """One app on the module's database, for modules whose cases leave nothing another reads:
    each case writes nothing, or only what it made itself, and compares counts before and
    after. A database and an app of their own cost a case far more than the case itself."""
    async with AsyncTestClient(create_app(app_settings(module_database_url))) as client:
        yield client


@pytest.fixture(scope="module")
async def module_pool(module_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(module_database_url, min_size=1, max_size=4) as opened:
        yield opened


@pytest.fixture(scope="module")
async def module_clinic(module_api: AsyncTestClient, module_pool: asyncpg.Pool) -> Clinic:
    return await build_clinic(module_api, module_pool, "north")


@pytest.fixture(scope="module")
async def module_other_clinic(module_api: AsyncTestClient, module_pool: asyncpg.Pool) -> Clinic:
    return await build_clinic(module_api, module_pool, "south")


@pytest.fixture
async def served_api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app running behind a real HTTP server, for requests that must overlap."""
    settings = app_settings(database_url)
    with serving(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client
