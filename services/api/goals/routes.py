"""Setting goals and reading them: one goal, a client's goals, my goals, a goal's history."""

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.access.policy import GoalAction
from infra.goals.queries import goal_events_page
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Authenticated, Db
from services.api.errors import problem_responses
from services.api.goals.access import load_for, render
from services.api.goals.as_of import goal_at
from services.api.goals.history import history_entries
from services.api.goals.schemas import (
    GoalOut,
    HistoryEntry,
    NewGoal,
    SharedGoalOut,
    WriteResult,
)
from services.api.goals.setting import set_new_goal
from services.api.goals.written import written_reply
from services.api.moments import moment_of
from services.api.writes import Reply, documented, idempotent


@post(
    "/v1/goals",
    summary="Set a goal (a therapist for their client, or a client for themself)",
    responses={
        201: ResponseSpec(
            data_container=WriteResult,
            description="The goal as set, with any warnings",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404, 413, 422),
    },
    operation_class=documented(reads=("Idempotency-Key",), answers=("ETag", "Idempotent-Replayed")),
)
async def set_goal(
    request: Request, data: JSONBody[NewGoal], conn: Db, caller: Authenticated
) -> Response[bytes]:
    async def produce() -> Reply:
        return written_reply(request, *await set_new_goal(request, conn, caller, data))

    return await idempotent(request, conn, caller, produce)


@get(
    "/v1/goals/{goal_id:uuid}",
    summary="A goal as it is now, or as it stood at a past moment, folded from its events",
    responses={
        200: ResponseSpec(
            # Litestar documents a union of its answers; its annotation names single types.
            data_container=GoalOut | SharedGoalOut,  # type: ignore[arg-type]
            description="The goal, in the view the caller may see",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404),
    },
    operation_class=documented(answers=("ETag",)),
    opt={ACCESS_LOGGED: True},
)
async def read_goal(
    request: Request,
    goal_id: FromPath[UUID],
    as_of: Annotated[
        str | None,
        QueryParameter(
            description="an ISO 8601 time with its offset: the goal as it stood then, "
            "folded from the events recorded by that moment"
        ),
    ] = None,
) -> Response[bytes]:
    moment = None if as_of is None else moment_of("as_of", as_of)
    caller, loaded = await load_for(request, goal_id, GoalAction.READ, GoalAction.READ_SHARED)
    if moment is not None:
        loaded = await goal_at(request, loaded, moment)
    return Response(
        msgspec.json.encode(render(loaded, caller)),
        media_type="application/json",
        headers={"ETag": f'"{loaded.version}"'},
    )


MAX_HISTORY_PAGE = 200


@get(
    "/v1/goals/{goal_id:uuid}/history",
    summary="Every event of a goal: who, when, why",
    description=(
        f"Oldest first, at most `limit` events (up to {MAX_HISTORY_PAGE}) after `after_version`;"
        " a full page may have more after it: ask again with its last `version`."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
    opt={ACCESS_LOGGED: True},
)
async def goal_history(
    request: Request,
    goal_id: FromPath[UUID],
    conn: Db,
    after_version: Annotated[
        int, QueryParameter(ge=0, description="only events after this version")
    ] = 0,
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_HISTORY_PAGE, description="events per page")
    ] = MAX_HISTORY_PAGE,
) -> list[HistoryEntry]:
    await load_for(request, goal_id, GoalAction.READ_HISTORY)
    return await history_entries(conn, await goal_events_page(conn, goal_id, after_version, limit))


ROUTES = [set_goal, read_goal, goal_history]
