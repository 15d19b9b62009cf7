"""The connection type that query modules accept: a plain one or one lent by a pool."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy


@asynccontextmanager
async def atomic(conn: Connection) -> AsyncIterator[None]:
    """A transaction around the block, unless one is open already: then that one decides."""
    if conn.is_in_transaction():
        yield
        return
    async with conn.transaction():
        yield
