"""Reads served by the workers' projection: progress, overviews, caseloads, clinic statistics.

Each says the highest log position the projection has applied; `min_position` (from a write's
response) makes it wait up to 2 seconds for that write to be applied. `stale` says the write did
not come in time, or a goal the read covers is behind its log or stalled.
"""

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from domain.access.policy import GoalAction
from domain.goals.attainment import t_score
from domain.goals.caseload import client_flags
from domain.goals.progress import achievement_status, local_day, series, streak
from infra.access import queries
from infra.projections import reads
from infra.projections.reads import Watermark
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, forbidden, problem_responses
from services.api.goals.access import load_for, readable_client
from services.api.progress.schemas import (
    CaseloadEntry,
    CaseloadPage,
    ClinicStatistics,
    OverviewOut,
    ProgressOut,
)
from services.api.progress.views import projected

MinPosition = Annotated[int | None, QueryParameter(ge=0, description="wait for this position")]


@get(
    "/v1/goals/{goal_id:uuid}/progress",
    summary="Progress per period, in the client's time",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def goal_progress(
    request: Request, goal_id: FromPath[UUID], conn: Db, min_position: MinPosition = None
) -> ProgressOut:
    await load_for(request, goal_id, GoalAction.READ, GoalAction.READ_SHARED)
    mark = await reads.wait_for(conn, min_position)
    found = await reads.summaries_by_id(conn, [goal_id])
    if not found.goals:
        raise Problem(404, "not_projected_yet", "This goal's progress is not ready yet.")
    summary = found.goals[0]
    check_ins = await reads.counted_check_ins(conn, [goal_id])
    today = local_day(datetime.now(UTC), summary.terms.time_zone)
    periods = series(summary.terms, check_ins.get(goal_id, []), today)
    return ProgressOut(
        goal_id=goal_id,
        cadence=summary.terms.measure.cadence,
        time_zone=summary.terms.time_zone,
        periods=periods,
        streak=streak(periods, today),
        achievement_status=achievement_status(summary.status, periods, today),
        projected=projected(mark.covering(found)),
    )


@get(
    "/v1/clients/{client_id:uuid}/overview",
    summary="A client's goals at a glance, with GAS",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def client_overview(
    client_id: FromPath[UUID], conn: Db, caller: Authenticated, min_position: MinPosition = None
) -> OverviewOut:
    await readable_client(conn, caller, client_id)
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


@get(
    "/v1/caseload",
    summary="A therapist's clients, with who needs attention first",
    responses=problem_responses(400, 401, 403, 422),
)
async def caseload(
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
    check_ins = await reads.counted_check_ins(
        conn, [summary.goal_id for summary in summaries if summary.status == "active"]
    )
    now = datetime.now(UTC)
    entries = []
    for client_id in client_ids:
        goals = [summary for summary in summaries if summary.client_id == client_id]
        flags = client_flags(goals, check_ins, now)
        entries.append(
            CaseloadEntry(
                client_id=client_id,
                display_name=people[client_id].display_name,
                active_goals=sum(1 for goal in goals if goal.status == "active"),
                no_check_in_7_days=flags.no_recent_check_in,
                behind_pace=flags.behind_pace,
                due_within_7_days=flags.due_soon,
                missed_last_14_days=flags.recently_missed,
                flag_count=flags.count,
            )
        )
    ordered = sorted(entries, key=lambda entry: _sort_key(_key_of(entry), sort))
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


@get(
    "/v1/clinic/stats",
    summary="Goals set, achieved and missed per month and life area (admins)",
    responses=problem_responses(400, 401, 403, 422),
)
async def clinic_stats(
    conn: Db, caller: Authenticated, min_position: MinPosition = None
) -> ClinicStatistics:
    if caller.role != "admin":
        raise forbidden()
    mark = await reads.wait_for(conn, min_position)
    behind = await reads.clinic_goals_behind(conn, caller.clinic_id)
    months = await reads.clinic_statistics(conn, caller.clinic_id)
    return ClinicStatistics(
        months=months, projected=projected(Watermark(mark.position, mark.stale or behind))
    )


ROUTES = [goal_progress, client_overview, caseload, clinic_stats]
