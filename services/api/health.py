"""Liveness and readiness, for load balancers and orchestrators."""

import asyncpg
import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.response import Response

from infra.db.migrate import is_current
from infra.db.outages import unreachable
from infra.projections.lag import consumer_lag, relay_lag
from infra.projections.registry import consumers
from services.api.outage import DatabaseWatch

STUCK_AFTER_SECONDS = 60
READY_BUDGET_SECONDS = 2.0


class Health(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/health/live", summary="The process answers", tags=["health"])
async def live() -> Health:
    return Health("ok")


@get(
    "/health/ready",
    summary="The database answers and its migrations are current",
    tags=["health"],
    responses={
        503: ResponseSpec(
            data_container=Health, description="Not ready: see `checks`", generate_examples=False
        )
    },
)
async def ready(state: State) -> Response[Health]:
    pool: asyncpg.Pool = state.pool
    watch: DatabaseWatch = state.database_watch
    checks: dict[str, str] = {}
    degraded: dict[str, str] = {}

    async def look() -> None:
        async with pool.acquire() as conn:
            checks["database"] = "ok"
            checks["migrations"] = "ok" if await is_current(conn) else "pending"
            if checks["migrations"] == "ok":
                lags = [await relay_lag(conn)]
                lags += [await consumer_lag(conn, consumer) for consumer in consumers()]
                for lag in lags:
                    if lag.seconds > STUCK_AFTER_SECONDS:
                        degraded[lag.consumer] = f"stuck: {lag.events} events, {lag.seconds:.0f} s"

    try:
        # Within the budget even when the server is frozen (see DatabaseWatch.within).
        await watch.within(READY_BUDGET_SECONDS, look())
    except Exception as error:
        if not unreachable(error):
            raise
        checks = {"database": f"unreachable: {type(error).__name__}"}
    healthy = all(value == "ok" for value in checks.values())
    # A stuck consumer makes reads stale but writes still work: report it, stay in rotation.
    status = "unavailable" if not healthy else "degraded" if degraded else "ok"
    return Response(Health(status, checks | degraded), status_code=200 if healthy else 503)


ROUTES = [live, ready]
