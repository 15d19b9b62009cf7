"""The goals shared with a partner (a supporter), in the shared view only: what
`GET /v1/me/goals` answers them (no notes, reflections or client details), and on each goal a
form that sends encouragement, as `POST /v1/goals/{id}/encouragements` does
(`encouragement_sender`: the same message rules, access check and nudge).

A goal not shared with the partner is refused as if it did not exist (404), by the API's own
`load_for`, before anything is written.
"""

from datetime import UTC, datetime
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.goals.errors import GoalRuleViolation
from infra.db.connection import Connection
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import ONE_STATEMENT_WRITES, CorrelationId, Db
from services.api.nudges.routes import encouragement_sender
from services.api.nudges.schemas import MAX_ENCOURAGEMENT
from services.api.progress.views import summary_out
from services.web.form_fields import form_text
from services.web.goal_cards import GoalCard, goal_card
from services.web.viewer import SignedIn, Viewer

PAGE = "/shared/goals"
SENT = "Sent. It reaches them within a minute, or after their quiet hours."
_NOT_SHOWN = frozenset({"entered_in_error"})


async def _cards(request: Request, conn: Connection, viewer: Viewer) -> list[GoalCard]:
    caller = viewer.caller
    found = await reads.summaries_shared_with(conn, caller.clinic_id, caller.user_id)
    shown = [summary for summary in found.goals if summary.status not in _NOT_SHOWN]
    note_reach(
        request,
        clients=[summary.client_id for summary in shown],
        goals=[summary.goal_id for summary in shown],
    )
    check_ins = await reads.counted_check_ins(conn, [summary.goal_id for summary in shown])
    now = datetime.now(UTC)
    return [goal_card(summary_out(s, check_ins, now, shared=True)) for s in reversed(shown)]


async def _page(
    request: Request,
    conn: Connection,
    viewer: Viewer,
    *,
    note: tuple[UUID, str] | None = None,
    error: tuple[UUID, str] | None = None,
    message: str = "",
) -> Template:
    return Template(
        "partner/shared_goals.html",
        context={
            "viewer": viewer,
            "cards": await _cards(request, conn, viewer),
            "note": note,
            "error": error,
            "message": message,
            "max_message": MAX_ENCOURAGEMENT,
        },
        status_code=200 if error is None else 422,
    )


@get(PAGE, opt={ACCESS_LOGGED: True})
async def shared_goals(
    request: Request, conn: Db, viewer: SignedIn, encouraged: FromQuery[UUID | None] = None
) -> Template | Redirect:
    if viewer.caller.role != "supporter":
        return Redirect(viewer.landing, status_code=303)
    note = None if encouraged is None else (encouraged, SENT)
    return await _page(request, conn, viewer, note=note)


@post(
    f"{PAGE}/{{goal_id:uuid}}/encouragements",
    opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True},
)
async def encourage(
    request: Request,
    goal_id: FromPath[UUID],
    conn: Db,
    viewer: SignedIn,
    correlation_id: CorrelationId,
) -> Template | Redirect:
    form = await request.form()
    message = form_text(form, "message")
    try:
        _, send = await encouragement_sender(request, conn, goal_id, message, correlation_id)
    except GoalRuleViolation as refused:
        return await _page(request, conn, viewer, error=(goal_id, refused.message), message=message)
    await send()
    return Redirect(f"{PAGE}?encouraged={goal_id}#goal-{goal_id}", status_code=303)


ROUTES = [shared_goals, encourage]
