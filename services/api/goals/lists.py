"""Goal lists, served by the workers' goal summary projection.

They say how far the projection is (see progress/routes.py); `min_position` (from a write's
response) waits up to 2 seconds for that write to be applied.
"""

from datetime import UTC, datetime
from uuid import UUID

from anyio import to_thread
from litestar import Request, get
from litestar.params import FromPath

from domain.access.policy import Caller
from domain.goals.summary import GoalSummary
from infra.access import queries
from infra.db.connection import Connection
from infra.projections import reads
from infra.projections.reads import SummaryRead, Watermark
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import Authenticated, Db
from services.api.errors import Problem, problem_responses
from services.api.goals.access import readable_client
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor
from services.api.params import MinPosition
from services.api.progress.schemas import GoalList, GoalSummaryOut, SharedSummaryOut
from services.api.progress.views import projected, summary_out


def _page(
    summaries: list[GoalSummary], limit: int, cursor: str | None
) -> tuple[list[GoalSummary], str | None]:
    """`summaries` come oldest first; a page lists them newest first, so that the goals people
    look for most are on the first."""
    newest_first = summaries[::-1]
    if cursor is not None:
        after: tuple[datetime, UUID] = decode_cursor(cursor, tuple[datetime, UUID])
        newest_first = [s for s in newest_first if (s.set_at, s.goal_id) < after]
    page = newest_first[:limit]
    if len(newest_first) <= limit:
        return page, None
    return page, encode_cursor(page[-1].set_at, page[-1].goal_id)


async def _listed(
    request: Request,
    conn: Connection,
    found: SummaryRead,
    mark: Watermark,
    *,
    shared: bool,
    limit: int,
    cursor: str | None,
) -> GoalList:
    page, next_cursor = _page(found.goals, limit, cursor)
    note_reach(
        request,
        clients=[summary.client_id for summary in page],
        goals=[summary.goal_id for summary in page],
    )
    check_ins = await reads.counted_check_ins(conn, [summary.goal_id for summary in page])
    now = datetime.now(UTC)

    def out() -> list[GoalSummaryOut | SharedSummaryOut]:
        return [summary_out(item, check_ins, now, shared=shared) for item in page]

    # Off the event loop: many goals with many check-ins must not hold up other requests.
    return GoalList(
        goals=await to_thread.run_sync(out),
        projected=projected(mark.covering(found)),
        next_cursor=next_cursor,
    )


@get(
    "/v1/clients/{client_id:uuid}/goals",
    summary="A client's goals",
    responses=problem_responses(400, 401, 403, 404, 422),
    opt={ACCESS_LOGGED: True},
)
async def client_goals(
    request: Request,
    client_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    min_position: MinPosition = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> GoalList:
    await readable_client(request, conn, caller, client_id)
    mark = await reads.wait_for(conn, min_position)
    found = await reads.summaries_of_clients(conn, [client_id])
    return await _listed(request, conn, found, mark, shared=False, limit=limit, cursor=cursor)


_WITH_GOALS = frozenset({"client", "therapist", "supporter"})


async def _my_summaries(conn: Connection, caller: Caller) -> SummaryRead:
    if caller.role == "client":
        return await reads.summaries_of_clients(conn, [caller.user_id])
    if caller.role == "therapist":
        clients = await queries.clients_of(conn, caller.user_id)
        return await reads.summaries_of_clients(conn, clients)
    return await reads.summaries_shared_with(conn, caller.clinic_id, caller.user_id)


@get(
    "/v1/me/goals",
    summary="My goals: my own, my clients', or those shared with me",
    responses=problem_responses(400, 401, 403, 422),
    opt={ACCESS_LOGGED: True},
)
async def my_goals(
    request: Request,
    conn: Db,
    caller: Authenticated,
    min_position: MinPosition = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> GoalList:
    if caller.role not in _WITH_GOALS:
        raise Problem(
            403, "no_goals_of_your_own", "Only clients, therapists and supporters have goals here."
        )
    mark = await reads.wait_for(conn, min_position)
    found = await _my_summaries(conn, caller)
    shared = caller.role == "supporter"
    return await _listed(request, conn, found, mark, shared=shared, limit=limit, cursor=cursor)


ROUTES = [client_goals, my_goals]
