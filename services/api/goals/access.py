"""Loading a goal for a caller: what they may see of it, or that it does not exist for them."""

from uuid import UUID

from litestar import Request

from domain.access.policy import Caller, GoalAccess, GoalAction, View, may, view_of
from domain.goals.view import RECENT_CHECK_INS
from infra.access import queries
from infra.db.connection import Connection
from infra.goals.loaded import LoadedGoal
from infra.goals.writer import GoalWriter
from services.api.audit.subject import note_reach
from services.api.auth import Authenticator, authenticated, request_credentials
from services.api.errors import forbidden, not_found
from services.api.goals.schemas import GoalOut, SharedGoalOut


def goal_writer(request: Request) -> GoalWriter:
    writer: GoalWriter = request.app.state.goal_writer
    return writer


async def client_access(conn: Connection, caller: Caller, client_id: UUID) -> GoalAccess | None:
    """Access facts for a client of the caller's clinic; None for anyone else."""
    care = await queries.care_of_client(conn, caller.clinic_id, client_id)
    if care is None:
        return None
    return GoalAccess(care.clinic_id, client_id, frozenset(), care.therapists)


async def readable_client(
    request: Request, conn: Connection, caller: Caller, client_id: UUID
) -> GoalAccess:
    """A client whose goals the caller may read: 404 if they may not know of them, else 403."""
    note_reach(request, clients=(client_id,))
    access = await client_access(conn, caller, client_id)
    if access is None or view_of(caller, access) is None:
        raise not_found("client")
    if not may(caller, GoalAction.READ, access):
        raise forbidden()
    return access


async def load_for(
    request: Request, goal_id: UUID, *actions: GoalAction
) -> tuple[Caller, LoadedGoal]:
    """The caller, and the goal if they may do one of `actions`: 404 if they may not see it,
    403 if they may see it but not do any of these."""
    authenticator: Authenticator = request.app.state.authenticator
    token_hash = authenticator.token_hash(request_credentials(request))
    read = await goal_writer(request).read(token_hash, goal_id)
    caller = authenticated(request, read.caller)
    folded, client = read.folded, read.client
    note_reach(request, clients=() if client is None else (client.client_id,), goals=(goal_id,))
    if folded is None or client is None:
        raise not_found("goal")
    access = GoalAccess(
        client.clinic_id, client.client_id, folded.state.supporters, client.therapists
    )
    if view_of(caller, access) is None:
        raise not_found("goal")
    if not any(may(caller, action, access) for action in actions):
        raise forbidden()
    return caller, LoadedGoal(folded.state, folded.detail, access, folded.version)


def render(loaded: LoadedGoal, caller: Caller) -> GoalOut | SharedGoalOut:
    detail = loaded.detail
    if not detail.totals_known:
        raise ValueError(f"goal {detail.goal_id} is rendered before its check-ins are counted")
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
    return full_goal(loaded)


def full_goal(loaded: LoadedGoal) -> GoalOut:
    """The goal as its client and their therapists see it."""
    detail = loaded.detail
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
