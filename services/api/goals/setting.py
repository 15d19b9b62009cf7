"""Setting a goal: the one path both `POST /v1/goals` and the web app's guided form take, from
the client it is for, through the replacement and clinic rules, to the writer."""

import uuid
from datetime import UTC, datetime

from litestar import Request

from domain.access.policy import Caller, GoalAccess, may_set_goal_for, view_of
from domain.goals.commands import Actor, SetGoal
from domain.goals.decider import check_replacement
from domain.goals.errors import GoalRuleViolation
from domain.goals.terms import GoalTerms
from infra.access import queries
from infra.access.clinics import goal_bounds
from infra.db.connection import Connection
from infra.goals.loaded import LoadedGoal, loaded_from
from infra.goals.queries import goal_ids_of_client, read_goal_streams
from infra.goals.writer import Subject, Written, actor_of
from services.api.errors import Problem, forbidden, not_found
from services.api.goals.access import client_access, goal_writer
from services.api.goals.schemas import GoalWarning, NewGoal
from services.api.goals.written import requested


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


def overload_warning(active: int, limit: int) -> list[GoalWarning]:
    """A gentle word when the client has as many active goals as the clinic thinks enough."""
    if active < limit:
        return []
    return [
        GoalWarning(
            "many_active_goals",
            f"There are already {active} active goals. Too many at once can overwhelm; "
            "consider pausing one, or keep this one small.",
        )
    ]


async def set_new_goal(
    request: Request, conn: Connection, caller: Caller, data: NewGoal
) -> tuple[Written, list[GoalWarning]]:
    """Sets the goal `data` asks for, on `conn`; refusals raise (problems and goal rules, whose
    fields are named as in `NewGoal`)."""
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
    return written, overload_warning(active, bounds.active_goal_limit)
