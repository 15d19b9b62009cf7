"""Liveness and readiness, for load balancers and orchestrators.

Only the database decides whether this process is ready (503 without it): without PostgreSQL
nothing works. A broker that is down or a relay that is stuck leave writes working (the log is
in PostgreSQL, and the relay catches up from its checkpoint) and reads answering, growing stale
and saying so (`projected.stale`). They are also shared by every API process: a 503 for them
would take every instance out of the load balancer at once, turning stale reads into a full
outage. So they make the status `degraded`, still 200, and `/metrics` carries the same figures
for an operator's alerts.
"""

import asyncio

import asyncpg
import msgspec
import redis
import redis.asyncio
from litestar import get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.response import Response

from infra.config import Settings
from infra.db.migrate import is_current
from infra.db.outages import unreachable
from infra.projections.lag import ConsumerLag, consumer_lag, relay_lag
from infra.projections.registry import consumers
from infra.projections.relay_health import RelayHealth, read_relay_health
from services.api.outage import DatabaseWatch

STUCK_AFTER_SECONDS = 60
READY_BUDGET_SECONDS = 2.0
BROKER_TIMEOUT_SECONDS = 0.5
OK = "ok"


class Health(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


async def broker_check(redis_url: str) -> str:
    """`ok`, or why Redis did not answer a ping within half a second."""
    client = redis.asyncio.Redis.from_url(
        redis_url,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        async with asyncio.timeout(BROKER_TIMEOUT_SECONDS * 2):
            await client.ping()
    except (OSError, TimeoutError, redis.RedisError) as error:
        return f"unreachable: {type(error).__name__}"
    finally:
        await client.aclose()
    return OK


def relay_check(health: RelayHealth, lag: ConsumerLag, stale_after_seconds: float) -> str:
    """`ok`, or what keeps the relay from handing new events to the workers."""
    if health.failing_seconds is not None:
        return f"failing for {health.failing_seconds:.0f} s: {health.last_error}"
    if health.last_pass_age_seconds is None:
        return "not started: no pass recorded"
    if health.last_pass_age_seconds > stale_after_seconds:
        return f"stale: last pass {health.last_pass_age_seconds:.0f} s ago"
    if lag.seconds > STUCK_AFTER_SECONDS:
        return f"stuck: {lag.events} events, {lag.seconds:.0f} s"
    return OK


@get("/health/live", summary="The process answers", tags=["health"])
async def live() -> Health:
    return Health(OK)


@get(
    "/health/ready",
    summary="The database answers and its migrations are current; the broker and the relay",
    tags=["health"],
    responses={
        503: ResponseSpec(
            data_container=Health, description="Not ready: see `checks`", generate_examples=False
        )
    },
)
async def ready(state: State) -> Response[Health]:
    settings: Settings = state.settings
    pool: asyncpg.Pool = state.pool
    watch: DatabaseWatch = state.database_watch
    broker = asyncio.create_task(broker_check(settings.redis_url))
    checks: dict[str, str] = {}
    behind: dict[str, str] = {}

    async def look() -> None:
        async with pool.acquire() as conn:
            checks["database"] = OK
            checks["migrations"] = OK if await is_current(conn) else "pending"
            if checks["migrations"] == OK:
                behind["relay"] = relay_check(
                    await read_relay_health(conn),
                    await relay_lag(conn),
                    settings.relay_stale_after_seconds,
                )
                for consumer in consumers():
                    lag = await consumer_lag(conn, consumer)
                    if lag.seconds > STUCK_AFTER_SECONDS:
                        behind[lag.consumer] = f"stuck: {lag.events} events, {lag.seconds:.0f} s"

    try:
        # Within the budget even when the server is frozen (see DatabaseWatch.within).
        await watch.within(READY_BUDGET_SECONDS, look())
    except Exception as error:
        if not unreachable(error):
            raise
        checks = {"database": f"unreachable: {type(error).__name__}"}
        behind = {}
    finally:
        behind["broker"] = await broker
    healthy = _all_ok(checks)
    status = "unavailable" if not healthy else OK if _all_ok(behind) else "degraded"
    return Response(Health(status, checks | behind), status_code=200 if healthy else 503)


def _all_ok(checks: dict[str, str]) -> bool:
    return all(value == OK for value in checks.values())


ROUTES = [live, ready]
