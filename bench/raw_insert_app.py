"""The ceiling for bench.api_checkins: one raw INSERT into `events` per request, nothing else.

    uv run python -m bench.raw_insert_app

Serves the route the API serves a check-in on (POST /v1/goals/{goal_id}/check-ins, a JSON body,
a JSON reply) under uvicorn exactly as `goals api` does (services/cli/serve.py), from the same
settings (DATABASE_URL, API_HOST, API_PORT, API_WORKERS, DATABASE_POOL_MIN/MAX), but without
authentication, an explicit transaction, the goal's stream, its rules or its rendering: each
request inserts one event with a fresh id into a fresh stream. No check-in through this schema
and this stack can be cheaper.
"""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import msgspec
from litestar import Litestar, get, post
from litestar.datastructures import State

from domain.goals.events import ProgressRecorded
from infra.config import get_settings
from infra.db.pool import open_pool
from infra.eventstore.envelope import Metadata
from infra.goals import codec
from infra.logging import configure_logging
from services.api.app import tune_garbage_collection
from services.cli.serve import serve_api

_INSERT = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
VALUES ($1, 1, $2, $3, $4, $5)
RETURNING position
"""
_EVENT_TYPE = codec.event_type(
    ProgressRecorded(uuid4(), uuid4(), 1, datetime(2025, 1, 1, tzinfo=UTC), None)
)
_encode = msgspec.json.Encoder().encode


class CheckInBody(msgspec.Struct, frozen=True):
    amount: float = 1
    note: str | None = None


class Inserted(msgspec.Struct, frozen=True):
    event_id: UUID
    position: int


@post("/v1/goals/{goal_id:uuid}/check-ins", status_code=201)
async def check_in(goal_id: UUID, data: CheckInBody, state: State) -> Inserted:
    pool: asyncpg.Pool = state.pool
    event_id = uuid4()
    event = ProgressRecorded(goal_id, uuid4(), data.amount, datetime.now(UTC), data.note)
    metadata = Metadata(
        actor_id=None, actor_role="client", clinic_id=None, correlation_id=event_id.hex
    )
    position = await pool.fetchval(
        _INSERT,
        f"goal-{uuid4()}",
        event_id,
        _EVENT_TYPE,
        codec.encode_event(event),
        _encode(metadata).decode(),
    )
    return Inserted(event_id, position)


@get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await open_pool(settings, stateless=True)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(
        route_handlers=[check_in, live],
        lifespan=[lifespan],
        on_startup=[tune_garbage_collection],  # as the API's workers do
        debug=False,
        logging_config=None,
    )


if __name__ == "__main__":
    # Served as `goals api` serves the API, so that only the app differs.
    sys.exit(serve_api(get_settings(), "bench.raw_insert_app:create_app"))
