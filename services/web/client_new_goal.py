"""Set a goal: a short guided form that walks the SMART questions (what exactly, how it is
measured, how much is realistic given the recent pace, which value and life area it serves, by
when), with the clinic's overload warning shown gently before anything is sent.

The goal is set by `set_new_goal`, the one path `POST /v1/goals` takes; its refusals are shown
next to the field they name. "Try again" after a goal that did not work out is this form with
`replaces`: it starts from the old goal's terms and shows how the old one went.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from domain.access.policy import GoalAction
from domain.goals.errors import GoalRuleViolation
from domain.goals.progress import local_day, series
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import ONE_STATEMENT_WRITES, Db
from services.api.goals.access import load_for
from services.api.goals.setting import set_new_goal
from services.web.client_chart import number
from services.web.client_goal import goal_page_url
from services.web.client_timeline import CADENCES
from services.web.goal_form import asked, fresh_typed, options, overload_words, typed_in
from services.web.my_goals import PAGE
from services.web.viewer import SignedIn, Viewer

NEW = f"{PAGE}/new"
_PACE_DAYS = 28
START_SMALL = (
    "Start small: a target you could reach even in a hard week is a good first one. "
    "You can always raise it later."
)


async def _pace(request: Request, conn: Db, viewer: Viewer, replaces: UUID | None) -> str:
    """How it has been going lately, in words, so the client can judge what is realistic."""
    if replaces is not None:
        _, loaded = await load_for(request, replaces, GoalAction.READ)
        terms = loaded.detail.terms
        counted = await reads.counted_check_ins(conn, [replaces])
        today = local_day(datetime.now(UTC), terms.time_zone)
        periods = series(terms, counted.get(replaces, []), today, periods=6)
        if not periods:
            return START_SMALL
        average = sum(period.done for period in periods) / len(periods)
        cadence = CADENCES[terms.measure.cadence]
        return (
            f"Last time you did {number(round(average, 1))} {terms.measure.unit} {cadence} on "
            f"average, against a target of {number(terms.measure.target)}. A target a little above "
            "what you managed is often the one that works."
        )
    found = await reads.summaries_of_clients(conn, [viewer.caller.user_id])
    goal_ids = [summary.goal_id for summary in found.goals]
    note_reach(request, clients=(viewer.caller.user_id,), goals=goal_ids)
    since = datetime.now(UTC) - timedelta(days=_PACE_DAYS)
    counted = await reads.counted_check_ins(conn, goal_ids, since)
    check_ins = sum(len(items) for items in counted.values())
    if not goal_ids:
        return START_SMALL
    return (
        f"In the last four weeks you checked in {check_ins} times across your goals. "
        "Start from what fits your weeks as they are now."
    )


async def _prefilled(request: Request, replaces: UUID | None) -> dict[str, str]:
    typed = fresh_typed()
    if replaces is not None:
        _, loaded = await load_for(request, replaces, GoalAction.READ)
        terms = loaded.detail.terms
        measure = terms.measure
        typed |= {
            "statement": terms.statement,
            "kind": measure.kind,
            "unit": measure.unit,
            "cadence": measure.cadence,
            "target": number(measure.target),
            "cue": terms.cue or "",
            "life_area": terms.life_area,
            "values": ", ".join(terms.values),
        }
    return typed


async def _form(
    request: Request,
    conn: Db,
    viewer: Viewer,
    replaces: UUID | None,
    typed: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
) -> Template:
    return Template(
        "client/new_goal.html",
        context={
            "viewer": viewer,
            "typed": typed,
            "errors": errors or {},
            "replaces": replaces,
            "pace": await _pace(request, conn, viewer, replaces),
            "warning": await overload_words(conn, viewer.caller.clinic_id, viewer.caller.user_id),
            "action": NEW if replaces is None else f"{NEW}?replaces={replaces}",
            **options(),
        },
        status_code=422 if errors else 200,
    )


@get(NEW, opt={ACCESS_LOGGED: True})
async def new_goal(
    request: Request, conn: Db, viewer: SignedIn, replaces: FromQuery[UUID | None] = None
) -> Template | Redirect:
    if viewer.caller.role != "client":
        return Redirect(viewer.landing, status_code=303)
    return await _form(request, conn, viewer, replaces, await _prefilled(request, replaces))


@post(NEW, opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True})
async def set_goal(
    request: Request, conn: Db, viewer: SignedIn, replaces: FromQuery[UUID | None] = None
) -> Template | Redirect:
    typed = await typed_in(request)
    goal = asked(typed, replaces=replaces)
    if isinstance(goal, dict):
        return await _form(request, conn, viewer, replaces, typed, errors=goal)
    try:
        written, warnings = await set_new_goal(request, conn, viewer.caller, goal)
    except GoalRuleViolation as refused:
        field = refused.field or "statement"
        return await _form(request, conn, viewer, replaces, typed, errors={field: refused.message})
    note = "set_many" if warnings else "set"
    goal_id = written.after.detail.goal_id
    return Redirect(
        goal_page_url(goal_id, note, written.handled.appended.last_position), status_code=303
    )


ROUTES = [new_goal, set_goal]
