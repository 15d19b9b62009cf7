"""A person's notification preferences (`GET`/`PUT /v1/me/notification-preferences`'s data):
quiet hours, the daily cap, the reminder time, channels, and which of their goals to hear
nothing about. Kept by `keep_preferences`, the API's own path."""

from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from domain.nudges.preferences import Preferences
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import CorrelationId, Db
from services.api.nudges.keeping import keep_preferences, mine
from services.api.nudges.schemas import PreferencesIn, clock
from services.api.writes import metadata_for
from services.web.viewer import SignedIn, Viewer

PAGE = "/my/notifications"
SAVED = "Saved. We will keep to these."
_FIELD_WORDS = {
    "quiet_hours.start": "Please enter a time, like 21:00.",
    "quiet_hours.end": "Please enter a time, like 08:00.",
    "reminder_time": "Please enter a time, like 18:00.",
    "daily_cap": "Please enter a whole number from 1 to 20.",
}
_NOT_SHOWN = frozenset({"entered_in_error"})


class GoalChoice(msgspec.Struct, frozen=True):
    goal_id: UUID
    statement: str
    muted: bool


def _typed(preferences: Preferences) -> dict[str, str]:
    return {
        "quiet_start": clock(preferences.quiet_start.isoformat()),
        "quiet_end": clock(preferences.quiet_end.isoformat()),
        "daily_cap": str(preferences.daily_cap),
        "reminder_time": clock(preferences.reminder_time.isoformat()),
        "in_app": "on" if preferences.in_app else "",
        "email": "on" if preferences.email else "",
    }


async def _page(
    request: Request,
    conn: Db,
    viewer: Viewer,
    typed: dict[str, str],
    muted: frozenset[UUID],
    *,
    errors: dict[str, str] | None = None,
    note: str | None = None,
) -> Template:
    client_id = viewer.caller.user_id
    found = await reads.summaries_of_clients(conn, [client_id])
    shown = [summary for summary in found.goals if summary.status not in _NOT_SHOWN]
    note_reach(request, clients=(client_id,), goals=[summary.goal_id for summary in shown])
    goals = [
        GoalChoice(summary.goal_id, summary.terms.statement, summary.goal_id in muted)
        for summary in reversed(shown)
    ]
    return Template(
        "client/preferences.html",
        context={
            "viewer": viewer,
            "typed": typed,
            "goals": goals,
            "errors": errors or {},
            "note": note,
        },
        status_code=422 if errors else 200,
    )


@get(PAGE, opt={ACCESS_LOGGED: True})
async def preferences(
    request: Request, conn: Db, viewer: SignedIn, saved: FromQuery[bool] = False
) -> Template:
    kept = await mine(conn, viewer.caller)
    note = SAVED if saved else None
    return await _page(request, conn, viewer, _typed(kept), kept.muted_goals, note=note)


def _asked(typed: dict[str, str], muted: list[str]) -> PreferencesIn | dict[str, str]:
    raw = {
        "quiet_hours": {"start": typed["quiet_start"], "end": typed["quiet_end"]},
        "daily_cap": typed["daily_cap"],
        "reminder_time": typed["reminder_time"],
        "channels": {"in_app": bool(typed["in_app"]), "email": bool(typed["email"])},
        "muted_goals": muted,
    }
    try:
        return msgspec.convert(raw, PreferencesIn, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rpartition("`$.")[2].rstrip("`").split("[")[0]
        return {field: _FIELD_WORDS.get(field, "Please check this.")}


@post(PAGE, opt={ACCESS_LOGGED: True})
async def save_preferences(
    request: Request, conn: Db, viewer: SignedIn, correlation_id: CorrelationId
) -> Template | Redirect:
    form = await request.form()
    typed = {
        name: str(form.get(name, "")).strip()
        for name in ("quiet_start", "quiet_end", "daily_cap", "reminder_time", "in_app", "email")
    }
    muted = [str(value) for value in form.getall("muted_goals", [])]
    asked = _asked(typed, muted)
    if isinstance(asked, dict):
        kept = await mine(conn, viewer.caller)
        return await _page(request, conn, viewer, typed, kept.muted_goals, errors=asked)
    await keep_preferences(conn, viewer.caller, asked, metadata_for(viewer.caller, correlation_id))
    return Redirect(f"{PAGE}?saved=true", status_code=303)


ROUTES = [preferences, save_preferences]
