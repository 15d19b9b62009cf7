"""How the relay's passes go: recorded by the relay in PostgreSQL, read by the API.

The relay runs in the worker service; readiness and metrics are answered by the API. PostgreSQL
is what both reach, so the relay writes the outcome of its passes there: when the last good
pass ended, and since when passes have been failing (Redis down, most often). A relay that is
down or frozen writes nothing, which shows as a last pass growing old.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
import msgspec
import structlog

from infra.db.connection import Connection
from infra.db.outages import describe, unreachable
from infra.projections.feed import RELAY

log = structlog.get_logger(__name__)

# A good pass is written at most this often: the relay passes every second or more often.
RECORD_PASS_EVERY_SECONDS = 1.0


class RelayHealth(msgspec.Struct, frozen=True):
    last_pass_age_seconds: float | None
    """Seconds since the last good pass ended; None if the relay never completed one."""
    failing_seconds: float | None
    """Seconds since passes began to fail; None while they succeed."""
    last_error: str | None
    """The kind of error the last failed pass met (the relay's log has the whole of it)."""
    failed_passes: int


async def read_relay_health(conn: Connection) -> RelayHealth:
    row = await conn.fetchrow(
        """
        SELECT extract(epoch FROM now() - last_pass_at) AS last_pass_age,
               extract(epoch FROM now() - failing_since) AS failing,
               last_error, failed_passes
        FROM relay_health WHERE relay = $1
        """,
        RELAY,
    )
    if row is None:
        return RelayHealth(None, None, None, 0)
    return RelayHealth(
        _seconds(row["last_pass_age"]),
        _seconds(row["failing"]),
        row["last_error"],
        int(row["failed_passes"]),
    )


def _seconds(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class RelayHealthRecorder:
    """Records each pass of one relay loop: its failures always, its successes once a second."""

    def __init__(self, pool: asyncpg.Pool, timeout_seconds: float) -> None:
        self._pool = pool
        self._timeout_seconds = timeout_seconds
        self._recorded_pass_at = 0.0
        self._failing = False

    @asynccontextmanager
    async def recording_pass(self) -> AsyncIterator[None]:
        """Around one pass: records that it succeeded, or that it failed (and re-raises)."""
        try:
            yield
        except Exception as error:
            await self._record(_FAILED, type(error).__name__)
            self._failing = True
            raise
        due = time.monotonic() - self._recorded_pass_at >= RECORD_PASS_EVERY_SECONDS
        if (self._failing or due) and await self._record(_PASSED):
            self._recorded_pass_at = time.monotonic()
            self._failing = False

    async def _record(self, statement: str, *arguments: object) -> bool:
        """Whether it was recorded: with PostgreSQL away it cannot be, and the API, which
        cannot read it either, reports the database instead."""
        try:
            async with asyncio.timeout(self._timeout_seconds), self._pool.acquire() as conn:
                await conn.execute(statement, RELAY, *arguments)
        except Exception as error:
            if not unreachable(error):
                raise
            log.debug("relay_health_not_recorded", error=describe(error))
            return False
        return True


_PASSED = "UPDATE relay_health SET last_pass_at = now(), failing_since = NULL WHERE relay = $1"
_FAILED = """
UPDATE relay_health SET failing_since = coalesce(failing_since, now()), last_failure_at = now(),
    last_error = $2, failed_passes = failed_passes + 1
WHERE relay = $1
"""
