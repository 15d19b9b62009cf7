import asyncio
from collections.abc import Callable
from uuid import UUID

import asyncpg
import pytest

from infra.config import Settings
from infra.webhooks import endpoints, fanout
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.sender import Sender
from infra.webhooks.signing import new_secret
from tests.integration.projections.goals import CLINIC, check_in, goal_with_check_ins

# Loopback only: no test ever opens a connection elsewhere.
LOOPBACK = "127.0.0.0/8,::1/128"
SHORT_DELAYS = "0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05"


def webhook_settings(database_url: str, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "database_url": database_url,
        "log_format": "json",
        "webhook_allowed_networks": LOOPBACK,
        "webhook_allow_http": True,
        "webhook_retry_delays": SHORT_DELAYS,
        "webhook_timeout_seconds": 1.0,
        "webhook_claim_seconds": 6.0,
    }
    return Settings(**{**base, **overrides})  # type: ignore[arg-type]


@pytest.fixture
async def clinic_id(pool: asyncpg.Pool) -> UUID:
    """The clinic the projection tests' goal commands name."""
    await pool.execute("INSERT INTO clinics (id, name) VALUES ($1, 'webhooks')", CLINIC)
    return CLINIC


@pytest.fixture
def sender(pool: asyncpg.Pool, database_url: str) -> Sender:
    return Sender(pool, webhook_settings(database_url))


async def add_endpoint(
    pool: asyncpg.Pool,
    url: str,
    event_types: list[str] | None = None,
    format: str = "id-only",
) -> tuple[UUID, str]:
    """Straight into the table: the API's checks of a URL are tested on their own."""
    import uuid  # noqa: PLC0415

    secret = new_secret()
    new = NewEndpoint(uuid.uuid4(), CLINIC, url, event_types or ["*"], format, "", secret)  # type: ignore[arg-type]
    async with pool.acquire() as conn:
        row = await endpoints.create(conn, new)
    return row.id, secret


async def fan_out(pool: asyncpg.Pool, goal_ids: list[UUID]) -> None:
    async with pool.acquire() as conn:
        for goal_id in goal_ids:
            await fanout.CONSUMER.apply(conn, goal_id)


async def send_until(
    sender: Sender, endpoint_id: UUID, done: Callable[[], bool], within: float = 10
) -> bool:
    """Sends what is due, again and again, until `done` (or `within` seconds pass)."""
    deadline = asyncio.get_running_loop().time() + within
    while not done():
        if asyncio.get_running_loop().time() > deadline:
            return False
        if not await sender.send_endpoint(endpoint_id):
            await asyncio.sleep(0.02)
    return True


async def states(pool: asyncpg.Pool, endpoint_id: UUID) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT state, count(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY state",
        endpoint_id,
    )
    return {row["state"]: row["n"] for row in rows}


async def goals_with_events(pool: asyncpg.Pool, goals: int, events_each: int) -> list[UUID]:
    """Goals set, each with check-ins after, `events_each` events in all per goal."""
    made = []
    async with pool.acquire() as conn:
        for _ in range(goals):
            goal_id = await goal_with_check_ins(conn, 0)
            for _ in range(events_each - 1):
                await check_in(conn, goal_id)
            made.append(goal_id)
    return made
