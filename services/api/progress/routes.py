"""Reads served by the workers' projection: progress, overviews, caseloads, clinic statistics.

Each says the highest log position the projection has applied; `min_position` (from a write's
response) makes it wait up to 2 seconds for that write to be applied. `stale` says the write did
not come in time, or a goal the read covers is behind its log or stalled.
"""

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from domain.access.policy import GoalAction
from domain.goals.attainment import t_score
from domain.goals.caseload import client_flags
from domain.goals.progress import (
    CountedCheckIn,
    achievement_status,
    has_earlier,
    local_day,
    series,
    streak,
)
from domain.goals.summary import GoalSummary
from infra.access import queries
from infra.projections import reads
from infra.projections.reads import Watermark
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, forbidden, problem_responses
from services.api.goals.access import load_for, readable_client
from services.api.params import MinPosition
from services.api.progress.schemas import (
    CaseloadEntry,
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
    await readable_client(request, conn, caller, client_id)
    mark = await reads.wait_for(conn, min_position)
    found = await reads.summaries_of_clients(conn, [client_id])
    summaries = found.goals
    counts = dict.fromkeys(("active", "paused", "achieved", "missed", "cancelled"), 0)
    for summary in summaries:
        if summary.status in counts:
            counts[summary.status] += 1
    ratings = [
        summary.attainment_rating
        for summary in summaries
        if summary.attainment_rating is not None and summary.status != "entered_in_error"
    ]
    limit = await queries.active_goal_limit(conn, caller.clinic_id)
    return OverviewOut(
        client_id=client_id,
        **counts,
        overloaded=counts["active"] > limit,
        rated_goals=len(ratings),
        attainment_t_score=None if not ratings else round(t_score(ratings) or 0, 1),
        projected=projected(mark.covering(found)),
    )


class _Cursor(msgspec.Struct, frozen=True):
    """Where a page ended: the last entry's sort key, so the next page starts after it."""

    flags: int
    name: str
    client_id: str


def _encode_cursor(entry: CaseloadEntry) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_key_of(entry))).decode()


def _decode_cursor(cursor: str) -> _Cursor:
    try:
        return msgspec.json.decode(base64.urlsafe_b64decode(cursor), type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise Problem(400, "invalid_cursor", "This cursor is not one we gave out.") from None


def _sort_key(key: _Cursor, order: str) -> tuple[int | str, ...]:
    if order == "name":
        return (key.name, key.client_id)
    return (key.flags, key.name, key.client_id)


def _key_of(entry: CaseloadEntry) -> _Cursor:
    return _Cursor(-entry.flag_count, entry.display_name.lower(), str(entry.client_id))


def _caseload_entry(
    client_id: UUID,
    name: str,
    goals: list[GoalSummary],
    check_ins: dict[UUID, list[CountedCheckIn]],
    now: datetime,
) -> CaseloadEntry:
    flags = client_flags(goals, check_ins, now)
    return CaseloadEntry(
        client_id=client_id,
        display_name=name,
        active_goals=sum(1 for goal in goals if goal.status == "active"),
        no_check_in_7_days=flags.no_recent_check_in,
        behind_pace=flags.behind_pace,
        due_within_7_days=flags.due_soon,
        missed_last_14_days=flags.recently_missed,
        flag_count=flags.count,
    )


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
    sort: Annotated[Literal["flags", "name"], QueryParameter()] = "flags",
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter()] = None,
    min_position: MinPosition = None,
) -> CaseloadPage:
    if caller.role != "therapist":
        raise forbidden()
    after = None if cursor is None else _decode_cursor(cursor)
    mark = await reads.wait_for(conn, min_position)
    client_ids = await queries.clients_of(conn, caller.user_id)
    people = await queries.users_by_id(conn, client_ids)
    found = await reads.summaries_of_clients(conn, client_ids)
    summaries = found.goals
    note_reach(request, clients=client_ids, goals=[summary.goal_id for summary in summaries])
    check_ins = await reads.counted_check_ins(
        conn, [summary.goal_id for summary in summaries if summary.status == "active"]
    )
    by_client: dict[UUID, list[GoalSummary]] = {client_id: [] for client_id in client_ids}
    for summary in summaries:
        by_client[summary.client_id].append(summary)
    now = datetime.now(UTC)

    def entries() -> list[CaseloadEntry]:
        return [
            _caseload_entry(client_id, people[client_id].display_name, goals, check_ins, now)
            for client_id, goals in by_client.items()
        ]

    # Off the event loop: a large caseload with many check-ins must not hold up other requests.
    ordered = sorted(
        await to_thread.run_sync(entries), key=lambda entry: _sort_key(_key_of(entry), sort)
    )
    if after is not None:
        start = _sort_key(after, sort)
        ordered = [entry for entry in ordered if _sort_key(_key_of(entry), sort) > start]
    page = ordered[:limit]
    more = len(ordered) > limit
    return CaseloadPage(
        clients=page,
        next_cursor=_encode_cursor(page[-1]) if more else None,
        projected=projected(mark.covering(found)),
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
