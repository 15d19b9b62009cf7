"""A client's page, for a therapist in their care team: the overview with the GAS T-score (what
`GET /v1/clients/{id}/overview` answers), the client's goals (as `GET /v1/clients/{id}/goals`
reads them), and on each goal the forms that rate its attainment and adjust it (the commands of
`POST /v1/goals/{id}/ratings` and `/adjustments`, through the same goal writer and rules).

A client outside the therapist's care team is refused as if they did not exist (404), by the
API's own `readable_client`; a goal they may not rate or change, by the API's own `load_for`.
"""

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.access.policy import Caller, GoalAction
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import TermsChange
from domain.goals.terms import GoalTerms
from infra.db.connection import Connection
from infra.goals.loaded import LoadedGoal
from infra.goals.writer import CommandMaker
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import ONE_STATEMENT_WRITES, Db
from services.api.goals.access import goal_writer, load_for
from services.api.goals.actions import adjust_maker, rate_maker, subject_of
from services.api.goals.schemas import Rating
from services.api.goals.written import requested
from services.api.progress.caseload import overview_of
from services.api.progress.schemas import GoalSummaryOut
from services.api.progress.views import summary_out
from services.web.form_fields import form_text
from services.web.therapist.words import RATINGS, client_goal, overview_words
from services.web.viewer import SignedIn, Viewer

RATED = "Rating saved."
ADJUSTED = "Goal adjusted."
GOAL_SET = "Goal set together."
NOTHING_TO_ADJUST = "Change the target or the due date, and say why."
NOT_A_RATING = "Please choose a rating from -2 to +2."
NOT_A_TARGET = "Please enter the target as a number, like 3."
NOT_A_DAY = "Please enter the due date as a day, like 2027-01-31."
_DONE = {"rated": RATED, "adjusted": ADJUSTED, "set": GOAL_SET}
_NOT_SHOWN = frozenset({"entered_in_error"})
Loaded = tuple[Caller, LoadedGoal]


def client_page(client_id: UUID) -> str:
    return f"/caseload/clients/{client_id}"


def new_goal_page(client_id: UUID) -> str:
    return f"{client_page(client_id)}/goals/new"


async def client_name(conn: Connection, client_id: UUID) -> str | None:
    name: str | None = await conn.fetchval(
        "SELECT display_name FROM users WHERE id = $1", client_id
    )
    return name


async def _page(
    request: Request,
    conn: Connection,
    viewer: Viewer,
    client_id: UUID,
    *,
    after: int | None = None,
    note: tuple[UUID, str] | None = None,
    error: tuple[UUID, str] | None = None,
) -> Template:
    overview = await overview_of(request, conn, viewer.caller, client_id, after)
    found = await reads.summaries_of_clients(conn, [client_id])
    shown = [summary for summary in found.goals if summary.status not in _NOT_SHOWN]
    note_reach(request, clients=(client_id,), goals=[summary.goal_id for summary in shown])
    check_ins = await reads.counted_check_ins(conn, [summary.goal_id for summary in shown])
    name = await client_name(conn, client_id)
    now = datetime.now(UTC)
    goals = []
    for summary in reversed(shown):
        out = summary_out(summary, check_ins, now)
        if isinstance(out, GoalSummaryOut):  # always: the care team's full view
            goals.append(client_goal(out, summary.attainment_rating))
    return Template(
        "therapist/client.html",
        context={
            "viewer": viewer,
            "client_name": name,
            "new_goal_url": new_goal_page(client_id),
            "overview": overview_words(overview),
            "goals": goals,
            "ratings": RATINGS,
            "note": note,
            "error": error,
        },
        status_code=200 if error is None else 422,
    )


@get("/caseload/clients/{client_id:uuid}", opt={ACCESS_LOGGED: True})
async def client(
    request: Request,
    client_id: FromPath[UUID],
    conn: Db,
    viewer: SignedIn,
    *,
    after: FromQuery[int | None] = None,
    done: FromQuery[str | None] = None,
    goal: FromQuery[UUID | None] = None,
) -> Template | Redirect:
    if viewer.caller.role != "therapist":
        return Redirect(viewer.landing, status_code=303)
    words = _DONE.get(done or "")
    note = None if words is None or goal is None else (goal, words)
    return await _page(request, conn, viewer, client_id, after=after, note=note)


async def _written(
    request: Request,
    conn: Connection,
    viewer: Viewer,
    loaded: Loaded,
    make: CommandMaker,
    *,
    reason: str | None,
    done: str,
) -> Template | Redirect:
    """Writes the command as the API does; back to the client's page, or the rule's words."""
    caller, goal = loaded
    goal_id, client_id = goal.detail.goal_id, goal.access.client_id
    try:
        written = await goal_writer(request).write(
            goal_id, make, requested(request, reason), load=subject_of(caller, goal)
        )
    except GoalRuleViolation as refused:
        return await _page(request, conn, viewer, client_id, error=(goal_id, refused.message))
    position = written.handled.appended.last_position
    query = f"after={position}&done={done}&goal={goal_id}"
    return Redirect(f"{client_page(client_id)}?{query}#goal-{goal_id}", status_code=303)


async def _refused(
    request: Request, conn: Connection, viewer: Viewer, loaded: Loaded, words: str
) -> Template:
    goal = loaded[1]
    client_id = goal.access.client_id
    return await _page(request, conn, viewer, client_id, error=(goal.detail.goal_id, words))


_WRITES = {ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True}


@post("/caseload/goals/{goal_id:uuid}/rating", opt=_WRITES)
async def rate(
    request: Request, goal_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    loaded = await load_for(request, goal_id, GoalAction.RATE)
    form = await request.form()
    note = form_text(form, "note") or None
    try:
        rating = int(form_text(form, "rating"))
    except ValueError:
        return await _refused(request, conn, viewer, loaded, NOT_A_RATING)
    make = rate_maker(goal_id, Rating(rating=rating, note=note))
    return await _written(request, conn, viewer, loaded, make, reason=None, done="rated")


def _changes(target_text: str, due_text: str, terms: GoalTerms) -> TermsChange | str:
    """What the form changes in the goal's terms, or why it cannot (in words)."""
    try:
        target = float(target_text) if target_text else terms.measure.target
    except ValueError:
        return NOT_A_TARGET
    try:
        due = date.fromisoformat(due_text) if due_text else terms.due_date
    except ValueError:
        return NOT_A_DAY
    changes = TermsChange()
    if target != terms.measure.target:
        measure = msgspec.structs.replace(terms.measure, target=target)
        changes = msgspec.structs.replace(changes, measure=measure)
    if due != terms.due_date:
        changes = msgspec.structs.replace(changes, due_date=due)
    return NOTHING_TO_ADJUST if changes == TermsChange() else changes


@post("/caseload/goals/{goal_id:uuid}/adjustment", opt=_WRITES)
async def adjust(
    request: Request, goal_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    loaded = await load_for(request, goal_id, GoalAction.WRITE)
    form = await request.form()
    reason = form_text(form, "reason")
    target_text = form_text(form, "target")
    due_text = form_text(form, "due_date")
    changes = _changes(target_text, due_text, loaded[1].detail.terms)
    if isinstance(changes, str):
        return await _refused(request, conn, viewer, loaded, changes)
    make = adjust_maker(goal_id, changes, reason)
    return await _written(request, conn, viewer, loaded, make, reason=reason, done="adjusted")


ROUTES = [client, rate, adjust]
