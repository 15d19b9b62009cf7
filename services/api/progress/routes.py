"""Reads served by the workers' projection: progress, overviews, caseloads, clinic statistics.

Each says the highest log position the projection has applied; `min_position` (from a write's
response) makes it wait up to 2 seconds for that write to be applied. `stale` says the write did
not come in time, or a goal the read covers is behind its log or stalled.
"""

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

from anyio import to_thread
from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from domain.access.policy import GoalAction
from domain.goals.progress import (
    CountedCheckIn,
    achievement_status,
    has_earlier,
    local_day,
    series,
    streak,
)
from domain.goals.summary import GoalSummary
from infra.projections import reads
from infra.projections.reads import Watermark
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, forbidden, problem_responses
from services.api.goals.access import load_for
from services.api.params import MinPosition
from services.api.progress.caseload import CaseloadOrder, caseload_of, overview_of
from services.api.progress.schemas import (
    CaseloadPage,
    ClinicStatistics,
    OverviewOut,
    ProgressOut,
    Projected,
)
from services.api.progress.views import projected

DEFAULT_PERIODS = 12
MAX_PERIODS = 100


def _progress(
    summary: GoalSummary,
    counted: list[CountedCheckIn],
    periods: int,
    before: date | None,
    reflects: Projected,
) -> ProgressOut:
    today = local_day(datetime.now(UTC), summary.terms.time_zone)
    terms = summary.terms
    page = series(terms, counted, today, periods=periods, before=before)
    latest = page if before is None else series(terms, counted, today, periods=3)
    return ProgressOut(
        goal_id=summary.goal_id,
        cadence=terms.measure.cadence,
        time_zone=terms.time_zone,
        periods=page,
        streak=streak(terms, counted, today),
        achievement_status=achievement_status(summary.status, latest, today),
        projected=reflects,
        earlier=page[0].start if page and has_earlier(terms, page[0]) else None,
    )


@get(
    "/v1/goals/{goal_id:uuid}/progress",
    summary="Progress per period, in the client's time",
    description=(
        f"The latest {DEFAULT_PERIODS} periods unless `periods` asks for more (at most "
        f"{MAX_PERIODS}); `earlier`, when the goal has periods before the page, is the "
        "`before` that asks for the page before it."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
    opt={ACCESS_LOGGED: True},
)
async def goal_progress(
    request: Request,
    goal_id: FromPath[UUID],
    conn: Db,
    min_position: MinPosition = None,
    periods: Annotated[
        int, QueryParameter(ge=1, le=MAX_PERIODS, description="how many periods, latest last")
    ] = DEFAULT_PERIODS,
    before: Annotated[
        date | None, QueryParameter(description="only periods that start before this day")
    ] = None,
) -> ProgressOut:
    await load_for(request, goal_id, GoalAction.READ, GoalAction.READ_SHARED)
    mark = await reads.wait_for(conn, min_position)
    found = await reads.summaries_by_id(conn, [goal_id])
    if not found.goals:
        raise Problem(404, "not_projected_yet", "This goal's progress is not ready yet.")
    check_ins = await reads.counted_check_ins(conn, [goal_id])
    # Off the event loop: a goal with many check-ins must not hold up other requests.
    return await to_thread.run_sync(
        _progress,
        found.goals[0],
        check_ins.get(goal_id, []),
        periods,
        before,
        projected(mark.covering(found)),
    )


@get(
    "/v1/clients/{client_id:uuid}/overview",
    summary="A client's goals at a glance, with GAS",
    responses=problem_responses(400, 401, 403, 404, 422),
    opt={ACCESS_LOGGED: True},
)
async def client_overview(
    request: Request,
    client_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    min_position: MinPosition = None,
) -> OverviewOut:
    return await overview_of(request, conn, caller, client_id, min_position)


@get(
    "/v1/caseload",
    summary="A therapist's clients, with who needs attention first",
    responses=problem_responses(400, 401, 403, 422),
    opt={ACCESS_LOGGED: True},
)
async def caseload(
    request: Request,
    conn: Db,
    caller: Authenticated,
    sort: Annotated[CaseloadOrder, QueryParameter()] = "flags",
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter()] = None,
    min_position: MinPosition = None,
) -> CaseloadPage:
    return await caseload_of(
        request, conn, caller, sort=sort, limit=limit, cursor=cursor, min_position=min_position
    )


MAX_MONTHS = 120


@get(
    "/v1/clinic/stats",
    summary="Goals set, achieved and missed per month and life area (admins)",
    description=f"The latest `months` months with goals (up to {MAX_MONTHS}), oldest first.",
    responses=problem_responses(400, 401, 403, 422),
    opt={ACCESS_LOGGED: True},
)
async def clinic_stats(
    conn: Db,
    caller: Authenticated,
    min_position: MinPosition = None,
    months: Annotated[
        int, QueryParameter(ge=1, le=MAX_MONTHS, description="how many months, latest last")
    ] = 24,
) -> ClinicStatistics:
    if caller.role != "admin":
        raise forbidden()
    mark = await reads.wait_for(conn, min_position)
    behind = await reads.clinic_goals_behind(conn, caller.clinic_id)
    rows = await reads.clinic_statistics(conn, caller.clinic_id)
    latest = set(sorted({row.month for row in rows})[-months:])
    return ClinicStatistics(
        months=[row for row in rows if row.month in latest],
        projected=projected(Watermark(mark.position, mark.stale or behind)),
    )


ROUTES = [goal_progress, client_overview, caseload, clinic_stats]
