"""Loading a goal for a caller: what they may see of it, or that it does not exist for them."""

from uuid import UUID

import msgspec
from litestar import Request

from domain.access.policy import Caller, GoalAccess, GoalAction, View, may, view_of
from domain.goals.events import GoalEvent
from domain.goals.state import Goal, GoalState, fold
from domain.goals.view import GoalDetail, advance, goal_detail
from infra.access import queries
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.envelope import RecordedEvent
from infra.goals.folds import GoalFolds
from infra.goals.handler import Handled
from infra.goals.request_read import RequestKey
from services.api.auth import Authenticator, RecentCallers, authenticated, bearer_credentials
from services.api.errors import forbidden, not_found
from services.api.goals.schemas import GoalOut, SharedGoalOut
from services.api.goals.store import goal_store

RECENT_CHECK_INS = 10

# Per process: see infra/goals/folds.py for why a cached fold is never stale.
folds = GoalFolds()
recent_callers = RecentCallers()


class LoadedGoal(msgspec.Struct, frozen=True):
    state: GoalState
    detail: GoalDetail
    access: GoalAccess
    version: int


async def client_access(conn: Connection, caller: Caller, client_id: UUID) -> GoalAccess | None:
    """Access facts for a client of the caller's clinic; None for anyone else."""
    care = await queries.care_of_client(conn, caller.clinic_id, client_id)
    if care is None:
        return None
    return GoalAccess(care.clinic_id, client_id, frozenset(), care.therapists)


async def readable_client(conn: Connection, caller: Caller, client_id: UUID) -> GoalAccess:
    """A client whose goals the caller may read: 404 if they may not know of them, else 403."""
    access = await client_access(conn, caller, client_id)
    if access is None or view_of(caller, access) is None:
        raise not_found("client")
    if not may(caller, GoalAction.READ, access):
        raise forbidden()
    return access


def loaded_from(recorded: list[RecordedEvent], client: GoalAccess) -> LoadedGoal:
    events: list[GoalEvent] = [codec.decode_event(item) for item in recorded]
    state = fold(events)
    detail = goal_detail(events)
    if detail is None or not isinstance(state, Goal):
        raise ValueError("an empty stream has no goal")
    access = msgspec.structs.replace(client, supporters=state.supporters)
    return LoadedGoal(state, detail, access, recorded[-1].stream_version)


async def load_for(
    request: Request, goal_id: UUID, *actions: GoalAction
) -> tuple[Caller, LoadedGoal]:
    """The caller, and the goal if they may do one of `actions`: 404 if they may not see it,
    403 if they may see it but not do any of these."""
    authenticator: Authenticator = request.app.state.authenticator
    base = folds.cached(goal_id)
    token_hash = authenticator.token_hash(bearer_credentials(request))
    read = await goal_store(request).read(
        RequestKey(token_hash, goal_id, base.version if base else 0)
    )
    caller = authenticated(request, read.caller)
    recent_callers.remember(token_hash, caller)
    folded = None if read.client is None else folds.advanced(goal_id, base, read.newer)
    if folded is None or read.client is None:
        raise not_found("goal")
    access = GoalAccess(
        read.client.clinic_id,
        read.client.client_id,
        folded.state.supporters,
        read.client.therapists,
    )
    if view_of(caller, access) is None:
        raise not_found("goal")
    if not any(may(caller, action, access) for action in actions):
        raise forbidden()
    return caller, LoadedGoal(folded.state, folded.detail, access, folded.version)


def render(loaded: LoadedGoal, caller: Caller) -> GoalOut | SharedGoalOut:
    detail = loaded.detail
    # Anything short of the full view (including a supporter who just left) sees the shared one.
    if view_of(caller, loaded.access) is not View.FULL:
        return SharedGoalOut(
            goal_id=detail.goal_id,
            version=loaded.version,
            statement=detail.terms.statement,
            measure=detail.terms.measure,
            due_date=detail.terms.due_date,
            status=detail.status,
            progress_total=detail.progress_total,
            check_in_count=detail.check_in_count,
            last_check_in_at=detail.last_check_in_at,
        )
    terms = detail.terms
    return GoalOut(
        goal_id=detail.goal_id,
        client_id=detail.client_id,
        version=loaded.version,
        statement=terms.statement,
        life_area=terms.life_area,
        values=list(terms.values),
        measure=terms.measure,
        cue=terms.cue,
        start_date=terms.start_date,
        due_date=terms.due_date,
        priority=terms.priority,
        time_zone=terms.time_zone,
        status=detail.status,
        status_reason=detail.status_reason,
        replaces=detail.replaces,
        reflection=detail.reflection,
        achievement_note=detail.achievement_note,
        progress_total=detail.progress_total,
        check_in_count=detail.check_in_count,
        recent_check_ins=list(detail.check_ins[-RECENT_CHECK_INS:]),
        supporters=list(detail.supporters),
        attainment_rating=detail.attainment_rating,
    )


def after_write(before: LoadedGoal | None, access: GoalAccess, handled: Handled) -> LoadedGoal:
    """The goal as a write left it; `before` is None for a goal the write set."""
    state = handled.state
    detail = (
        goal_detail(handled.events) if before is None else advance(before.detail, handled.events)
    )
    if detail is None or not isinstance(state, Goal):
        raise ValueError("a write leaves a goal behind")
    return LoadedGoal(
        state=state,
        detail=detail,
        access=msgspec.structs.replace(access, supporters=state.supporters),
        version=handled.appended.version,
    )
