"""A client's goal page: progress per period as a chart, the latest check-ins, the history as a
timeline; and, on it, "not this time" with the reflection, and sharing with a partner.

The goal is loaded for the caller by the API's `load_for` (a goal they may not see is a 404,
access-logged like every goal read); progress comes from the same projection and the same
`series` as `GET /v1/goals/{id}/progress`; the history from the same entries as
`GET /v1/goals/{id}/history`; each write goes through the goal writer as the API's does.
"""

import uuid
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.access.policy import GoalAction
from domain.goals.commands import Actor, AddSupporter, GoalCommand, RecordMiss, RemoveSupporter
from domain.goals.decider import OPEN_STATUSES
from domain.goals.errors import GoalRuleViolation
from domain.goals.progress import local_day, series
from domain.goals.terms import MissCause
from infra.access.queries import users_by_id
from infra.goals.queries import goal_events_page
from infra.goals.writer import CommandMaker
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import ONE_STATEMENT_WRITES, Db
from services.api.goals.access import full_goal, goal_writer, load_for
from services.api.goals.actions import loader
from services.api.goals.history import history_entries
from services.api.goals.routes import MAX_HISTORY_PAGE
from services.api.goals.written import requested
from services.api.progress.routes import DEFAULT_PERIODS
from services.api.progress.schemas import GoalSummaryOut
from services.api.progress.views import summary_out
from services.web.client_chart import number, progress_chart
from services.web.client_forms import NUL_WORDS, with_nul
from services.web.client_sharing import supporter_by_email
from services.web.client_timeline import CAUSE_WORDS, LIFE_AREAS, measure_text, timeline
from services.web.goal_cards import goal_card
from services.web.my_goals import PAGE
from services.web.viewer import SignedIn, Viewer

REFLECTED = "Thank you for reflecting. Every attempt teaches something."
SHARED = "Shared. Your partner can now see this goal and cheer you on."
UNSHARED = "This goal is no longer shared with that partner."
CHECKED_IN = "Checked in. Well done!"
GOAL_SET = "Your goal is set. Every step counts."
GOAL_SET_AMONG_MANY = (
    "Your goal is set. You have quite a few active goals now: it is fine to pause one, "
    "or to keep this one small."
)
_NOTES = {
    "reflected": REFLECTED,
    "shared": SHARED,
    "unshared": UNSHARED,
    "checked_in": CHECKED_IN,
    "set": GOAL_SET,
    "set_many": GOAL_SET_AMONG_MANY,
}
NO_PARTNER = (
    "We could not find a partner with that e-mail address in your clinic. "
    "Please check the address, or ask your clinic to invite them."
)
CHOOSE_A_CAUSE = "Please choose what got in the way."


class Form(msgspec.Struct, frozen=True):
    """A form on the page that was refused: which, its words, and what was typed."""

    name: str
    error: str
    typed: dict[str, str] = msgspec.field(default_factory=dict)


def goal_page_url(goal_id: UUID, note: str | None = None, after: int | None = None) -> str:
    query = "&".join(
        part
        for part in (
            f"note={note}" if note else "",
            f"after={after}" if after else "",
        )
        if part
    )
    return f"{PAGE}/{goal_id}" + (f"?{query}" if query else "")


async def _page(
    request: Request,
    conn: Db,
    viewer: Viewer,
    goal_id: UUID,
    *,
    after: int | None = None,
    note: str | None = None,
    refused: Form | None = None,
) -> Template:
    _, loaded = await load_for(request, goal_id, GoalAction.READ)
    goal = full_goal(loaded)
    await reads.wait_for(conn, after)
    found = await reads.summaries_by_id(conn, [goal_id])
    counted = await reads.counted_check_ins(conn, [goal_id])
    terms = loaded.detail.terms
    today = local_day(datetime.now(UTC), terms.time_zone)
    periods = series(terms, counted.get(goal_id, []), today, periods=DEFAULT_PERIODS)
    # The latest events: a daily goal's history grows by one a day, and people read what
    # happened lately; the whole of it stays in `GET /v1/goals/{id}/history`.
    after_version = max(0, loaded.version - MAX_HISTORY_PAGE)
    history = await history_entries(
        conn, await goal_events_page(conn, goal_id, after_version, MAX_HISTORY_PAGE)
    )
    zone = ZoneInfo(terms.time_zone)
    partners = await users_by_id(conn, list(goal.supporters))
    card = None
    if found.goals:
        summary = summary_out(found.goals[0], counted, datetime.now(UTC))
        card = goal_card(summary) if isinstance(summary, GoalSummaryOut) else None
    return Template(
        "client/goal.html",
        context={
            "viewer": viewer,
            "goal": goal,
            "card": card,
            "life_area": LIFE_AREAS.get(goal.life_area, goal.life_area),
            "measure": measure_text(msgspec.to_builtins(goal.measure)),
            "chart": progress_chart(periods, terms.measure.cadence, terms.measure.unit),
            "check_ins": [
                (f"{item.occurred_at.astimezone(zone):%-d %B %Y, %H:%M}", number(item.amount), item)
                for item in reversed(goal.recent_check_ins)
            ],
            "moments": timeline(history, zone),
            "earlier_history": after_version > 0,
            "partners": [partners[p] for p in goal.supporters if p in partners],
            "causes": CAUSE_WORDS,
            "reflection": None
            if goal.reflection is None
            else (CAUSE_WORDS[goal.reflection.cause], goal.reflection.words),
            "open": goal.status in OPEN_STATUSES,
            "note": note,
            "refused": refused,
            "new_id": uuid.uuid4,
        },
        status_code=422 if refused else 200,
    )


@get(f"{PAGE}/{{goal_id:uuid}}", opt={ACCESS_LOGGED: True})
async def goal_page(
    request: Request,
    goal_id: FromPath[UUID],
    conn: Db,
    viewer: SignedIn,
    *,
    note: FromQuery[str | None] = None,
    after: FromQuery[int | None] = None,
) -> Template | Redirect:
    if viewer.caller.role != "client":
        return Redirect(viewer.landing, status_code=303)
    return await _page(request, conn, viewer, goal_id, after=after, note=_NOTES.get(note or ""))


async def _write(
    request: Request, goal_id: UUID, make: CommandMaker, action: GoalAction
) -> int | str:
    """The log position of the write, or the goal's rules' words for why it was refused."""
    try:
        written = await goal_writer(request).write(
            goal_id, make, requested(request), load=loader(request, goal_id, action)
        )
    except GoalRuleViolation as refused:
        return refused.message
    return written.handled.appended.last_position


@post(f"{PAGE}/{{goal_id:uuid}}/miss", opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True})
async def reflect(
    request: Request, goal_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    """Not this time: the goal closes as missed, with what got in the way and the client's words
    (`POST /v1/goals/{id}/miss`)."""
    form = await request.form()
    cause = str(form.get("cause", ""))
    words = str(form.get("reflection", "")).strip()
    typed = {"cause": cause, "reflection": words}
    if with_nul(typed) is not None:
        refused = Form("miss", NUL_WORDS, typed)
        return await _page(request, conn, viewer, goal_id, refused=refused)
    if cause not in CAUSE_WORDS:
        return await _page(
            request, conn, viewer, goal_id, refused=Form("miss", CHOOSE_A_CAUSE, typed)
        )
    miss_cause: MissCause = cause  # type: ignore[assignment]  # checked against the causes above

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RecordMiss(goal_id, miss_cause, words, actor, now)

    outcome = await _write(request, goal_id, make, GoalAction.WRITE)
    if isinstance(outcome, str):
        return await _page(request, conn, viewer, goal_id, refused=Form("miss", outcome, typed))
    return Redirect(goal_page_url(goal_id, "reflected", outcome), status_code=303)


@post(f"{PAGE}/{{goal_id:uuid}}/partners", opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True})
async def share(
    request: Request, goal_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    """Share the goal with a partner of the clinic named by e-mail address
    (`POST /v1/goals/{id}/supporters/{user_id}`)."""
    email = str((await request.form()).get("email", "")).strip()
    has_nul = with_nul({"email": email}) is not None
    partner = None if has_nul else await supporter_by_email(conn, viewer.caller.clinic_id, email)
    if partner is None:
        return await _page(
            request, conn, viewer, goal_id, refused=Form("share", NO_PARTNER, {"email": email})
        )
    found: UUID = partner

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return AddSupporter(goal_id, found, actor, now)

    outcome = await _write(request, goal_id, make, GoalAction.SHARE)
    if isinstance(outcome, str):
        return await _page(
            request, conn, viewer, goal_id, refused=Form("share", outcome, {"email": email})
        )
    return Redirect(goal_page_url(goal_id, "shared", outcome), status_code=303)


@post(
    f"{PAGE}/{{goal_id:uuid}}/partners/{{partner_id:uuid}}/removal",
    opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True},
)
async def unshare(
    request: Request,
    goal_id: FromPath[UUID],
    partner_id: FromPath[UUID],
    conn: Db,
    viewer: SignedIn,
) -> Template | Redirect:
    """Stop sharing with a partner (`DELETE /v1/goals/{id}/supporters/{user_id}`)."""

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RemoveSupporter(goal_id, partner_id, actor, now)

    outcome = await _write(request, goal_id, make, GoalAction.UNSHARE)
    if isinstance(outcome, str):
        return await _page(request, conn, viewer, goal_id, refused=Form("unshare", outcome))
    return Redirect(goal_page_url(goal_id, "unshared", outcome), status_code=303)


ROUTES = [goal_page, reflect, share, unshare]
