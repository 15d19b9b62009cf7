"""A client's goals, one card each, and the one-tap check-in on a card.

The page reads the goal summary projection as `GET /v1/me/goals` does, and the check-in goes
through the goal writer exactly as `POST /v1/goals/{id}/check-ins` sends it (the same command
maker, the same load of the goal for the caller, the same rules). With htmx the answer is the
card alone; without, the browser is sent back to the page (POST, redirect, GET).
"""

import uuid
from datetime import UTC, datetime
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from domain.goals.errors import GoalRuleViolation
from infra.db.connection import Connection
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import ONE_STATEMENT_WRITES, Db
from services.api.errors import Problem
from services.api.goals.access import goal_writer
from services.api.goals.actions import check_in_maker, loader
from services.api.goals.schemas import NewCheckIn
from services.api.goals.written import requested
from services.api.progress.schemas import GoalSummaryOut
from services.api.progress.views import summary_out
from services.web.goal_cards import GoalCard, goal_card
from services.web.viewer import SignedIn, Viewer

PAGE = "/my/goals"
CHECKED_IN = "Checked in. Well done!"
NOT_A_NUMBER = "Please enter a number, like 1."
_NOT_SHOWN = frozenset({"entered_in_error"})


async def _cards(
    request: Request, conn: Connection, client_id: UUID, min_position: int | None = None
) -> list[GoalCard]:
    """The client's goals, newest first, as the projection has them (once it has applied the
    write at `min_position`, waiting up to 2 seconds)."""
    await reads.wait_for(conn, min_position)
    found = await reads.summaries_of_clients(conn, [client_id])
    shown = [summary for summary in found.goals if summary.status not in _NOT_SHOWN]
    note_reach(request, clients=(client_id,), goals=[summary.goal_id for summary in shown])
    check_ins = await reads.counted_check_ins(conn, [summary.goal_id for summary in shown])
    now = datetime.now(UTC)
    cards = []
    for summary in reversed(shown):
        out = summary_out(summary, check_ins, now)
        if isinstance(out, GoalSummaryOut):  # always: the client's own goals, in full
            cards.append(goal_card(out))
    return cards


def _page(
    viewer: Viewer,
    cards: list[GoalCard],
    *,
    goal_id: UUID | None = None,
    note: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "goals/my_goals.html",
        context={
            "viewer": viewer,
            "cards": cards,
            "noted_goal": goal_id,
            "note": note,
            "error": error,
            "new_id": uuid.uuid4,
        },
        status_code=status_code,
    )


@get(PAGE, opt={ACCESS_LOGGED: True})
async def my_goals(
    request: Request,
    conn: Db,
    viewer: SignedIn,
    checked_in: FromQuery[UUID | None] = None,
    after: FromQuery[int | None] = None,
) -> Template | Redirect:
    if viewer.caller.role != "client":
        return Redirect(viewer.landing, status_code=303)
    cards = await _cards(request, conn, viewer.caller.user_id, after)
    note = CHECKED_IN if checked_in is not None else None
    return _page(viewer, cards, goal_id=checked_in, note=note)


async def _check_in_asked(request: Request) -> NewCheckIn | str:
    """The check-in the form asks for, or why it cannot be one."""
    form = await request.form()
    try:
        check_in_id = uuid.UUID(str(form.get("check_in_id", "")))
    except ValueError:
        check_in_id = uuid.uuid4()
    amount_text = str(form.get("amount", "1")).strip() or "1"
    try:
        amount = float(amount_text)
    except ValueError:
        return NOT_A_NUMBER
    return NewCheckIn(amount=amount, check_in_id=check_in_id)


async def _record(request: Request, goal_id: UUID, asked: NewCheckIn) -> int | str:
    """The log position of the check-in, or the goal's rules' words for why it was refused.
    A form sent twice (its check-in id recorded already) counts once, as in the API."""
    writer = goal_writer(request)
    try:
        written = await writer.write(
            goal_id,
            check_in_maker(goal_id, asked),
            requested(request),
            load=loader(request, goal_id),
        )
    except GoalRuleViolation as refused:
        if refused.code == "check_in_exists":
            return 0
        return refused.message
    return written.handled.appended.last_position


@post(
    f"{PAGE}/{{goal_id:uuid}}/check-ins",
    opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True},
)
async def check_in(
    request: HTMXRequest, goal_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    asked = await _check_in_asked(request)
    # A goal the caller may not see is refused by the API's own load (404), shown as a page.
    outcome = asked if isinstance(asked, str) else await _record(request, goal_id, asked)
    position = outcome if isinstance(outcome, int) and outcome > 0 else None
    if not request.htmx and isinstance(outcome, int):
        # The page waits for the projection to hold the check-in, as `min_position` does.
        after = "" if position is None else f"&after={position}"
        if (await request.form()).get("back_to") == "goal":  # the goal page's own form
            return Redirect(f"{PAGE}/{goal_id}?note=checked_in{after}", status_code=303)
        return Redirect(f"{PAGE}?checked_in={goal_id}{after}#goal-{goal_id}", status_code=303)
    cards = await _cards(request, conn, viewer.caller.user_id, position)
    error = outcome if isinstance(outcome, str) else None
    note = None if error else CHECKED_IN
    status = 422 if error else 200
    if not request.htmx:
        return _page(viewer, cards, goal_id=goal_id, error=error, status_code=status)
    card = next((card for card in cards if card.goal_id == goal_id), None)
    if card is None:
        raise Problem(404, "not_found", "No such goal.")
    return Template(
        "goals/_card.html",
        context={"card": card, "note": note, "error": error, "new_id": uuid.uuid4},
        status_code=status,
    )


ROUTES = [my_goals, check_in]
