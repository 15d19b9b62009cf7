"""Setting goals and reading them: one goal, a client's goals, my goals, a goal's history."""

import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.access.policy import Caller, GoalAccess, GoalAction, may_set_goal_for, view_of
from domain.goals.commands import Actor, SetGoal
from domain.goals.decider import check_replacement
from domain.goals.errors import GoalRuleViolation
from domain.goals.terms import GoalTerms
from infra.access import queries
from infra.access.clinics import goal_bounds
from infra.db.connection import Connection
from infra.goals.loaded import LoadedGoal, loaded_from
from infra.goals.queries import goal_events_page, goal_ids_of_client, read_goal_streams
from infra.goals.writer import Subject, actor_of
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, forbidden, not_found, problem_responses
from services.api.goals.access import client_access, goal_writer, load_for, render
from services.api.goals.as_of import goal_at
from services.api.goals.history import history_entries
from services.api.goals.schemas import (
    GoalOut,
    GoalWarning,
    HistoryEntry,
    NewGoal,
    SharedGoalOut,
    WriteResult,
)
from services.api.goals.written import requested, written_reply
from services.api.moments import moment_of
from services.api.writes import Reply, documented, idempotent


async def _clients_goals(conn: Connection, access: GoalAccess) -> list[LoadedGoal]:
    streams = await read_goal_streams(conn, await goal_ids_of_client(conn, access.client_id))
    return [loaded_from(recorded, access) for recorded in streams.values() if recorded]


async def _client_for_new_goal(conn: Connection, caller: Caller, data: NewGoal) -> GoalAccess:
    client_id = data.client_id or (caller.user_id if caller.role == "client" else None)
    if client_id is None:
        raise Problem(422, "client_required", "Name the client this goal is for.")
    access = await client_access(conn, caller, client_id)
    if access is None or view_of(caller, access) is None:
        raise not_found("client")
    if not may_set_goal_for(caller, access):
        raise forbidden()
    return access


def _as_body_field(violation: GoalRuleViolation) -> GoalRuleViolation:
    """The rule names fields of the command's terms; the request body carries them at its top."""
    field = violation.field
    if field is not None and field.startswith("terms."):
        field = field.removeprefix("terms.")
    return GoalRuleViolation(violation.code, violation.message, field)


def _overload_warning(active: int, limit: int) -> list[GoalWarning]:
    if active < limit:
        return []
    return [
        GoalWarning(
            "many_active_goals",
            f"There are already {active} active goals. Too many at once can overwhelm; "
            "consider pausing one, or keep this one small.",
        )
    ]


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
        access = await _client_for_new_goal(conn, caller, data)
        client = await queries.user_in_clinic(conn, caller.clinic_id, access.client_id)
        if client is None:
            raise not_found("client")
        terms = GoalTerms(
            data.statement,
            data.life_area,
            tuple(data.values),
            data.measure,
            data.cue,
            data.start_date,
            data.due_date,
            data.priority,
            client.time_zone,
        )
        goal_id = uuid.uuid4()
        bounds = await goal_bounds(conn, caller.clinic_id)

        def make(actor: Actor, now: datetime) -> SetGoal:
            return SetGoal(
                goal_id, access.client_id, terms, actor, now, bounds.opened_at, data.replaces
            )

        goals = await _clients_goals(conn, access)
        if data.replaces is not None:
            replaced = next((g for g in goals if g.detail.goal_id == data.replaces), None)
            if replaced is None:
                raise not_found("goal to replace")
            check_replacement(replaced.state, make(actor_of(caller), datetime.now(UTC)))
        active = sum(1 for goal in goals if goal.detail.status == "active")

        async def load() -> Subject:
            return Subject(caller, access, None)

        try:
            written = await goal_writer(request).write(
                goal_id, make, requested(request), load=load, conn=conn
            )
        except GoalRuleViolation as violation:
            raise _as_body_field(violation) from None
        return written_reply(request, written, _overload_warning(active, bounds.active_goal_limit))

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
