from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.db.connection import Connection


@pytest.fixture(scope="module")
async def module_conn(module_database_url: str) -> AsyncIterator[Connection]:
    """A connection as the service on the module's database: for statements that are tried and
    rolled back, which a database of their own would cost each far more than they do."""
    connection = await asyncpg.connect(module_database_url)
    try:
        yield connection
    finally:
        await connection.close()
