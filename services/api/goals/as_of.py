"""Reading a goal as it stood at a past moment (`?as_of=`), rebuilt from its events."""

from datetime import datetime
from uuid import UUID

import asyncpg
from litestar import Request

from domain.goals.as_of import goal_as_of
from infra.config import Settings
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.fhir_reads import stamp_of
from infra.goals.loaded import LoadedGoal
from infra.goals.streams import goal_stream
from services.api.errors import FieldError, Problem


async def goal_at(request: Request, loaded: LoadedGoal, moment: datetime) -> LoadedGoal:
    """`loaded`, the goal as it is now (its access already checked), as it stood at `moment`."""
    pool: asyncpg.Pool = request.app.state.pool
    settings: Settings = request.app.state.settings
    goal_id: UUID = loaded.detail.goal_id
    async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
        recorded = await read_stream(conn, goal_stream(goal_id))
    seen = goal_as_of(((codec.decode_event(item), stamp_of(item)) for item in recorded), moment)
    if seen is None:
        raise Problem(
            404,
            "goal_not_yet_set",
            "The goal was set after this moment; ask for a later one.",
            errors=[FieldError("as_of", "before the goal was set")],
        )
    return LoadedGoal(seen.state, seen.detail, loaded.access, seen.record.version)
