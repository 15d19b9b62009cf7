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


@pytest.fixture
async def served_api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app running behind a real HTTP server, for requests that must overlap."""
    settings = app_settings(database_url)
    with serving(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client
