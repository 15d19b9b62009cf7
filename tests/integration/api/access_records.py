"""Looking at the access log from tests: the records a request left, by its correlation id."""

import uuid

import asyncpg


def request_id() -> str:
    return f"read-{uuid.uuid4().hex}"


async def records_of(pool: asyncpg.Pool, correlation_id: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM access_log WHERE correlation_id = $1 ORDER BY id", correlation_id
        )
    )
