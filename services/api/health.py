"""Liveness and readiness, for load balancers and orchestrators."""

import asyncio

import asyncpg
import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.response import Response

from infra.db.migrate import is_current


class Health(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/health/live", summary="The process answers", tags=["health"])
async def live() -> Health:
    return Health("ok")


@get(
    "/health/ready", summary="The database answers and its migrations are current", tags=["health"]
)
async def ready(state: State) -> Response[Health]:
    pool: asyncpg.Pool = state.pool
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2), pool.acquire() as conn:
            checks["database"] = "ok"
            checks["migrations"] = "ok" if await is_current(conn) else "pending"
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return Response(
        Health("ok" if healthy else "unavailable", checks), status_code=200 if healthy else 503
    )


ROUTES = [live, ready]
