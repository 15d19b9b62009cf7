"""The guided goal form's pieces, shared by the client's "set a goal" and the therapist's "set a
goal with them": the options it offers, reading what was typed into the goal `set_new_goal`
takes, and the words for each field that cannot be read."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
from litestar import Request

from infra.access import queries
from infra.db.connection import Connection
from infra.projections import reads
from services.api.goals.schemas import NewGoal
from services.api.goals.setting import overload_warning
from services.web.client_forms import NUL_WORDS, with_nul
from services.web.client_timeline import CADENCES, LIFE_AREAS

KINDS = {
    "count": "Count how many times",
    "duration_minutes": "Count minutes",
    "done": "Just say I did it",
    "rating_0_10": "Rate it from 0 to 10",
}
_FIELD_WORDS = {
    "statement": "Please say in a few words what you will do.",
    "measure.target": "Please enter a number above zero, like 3.",
    "measure.unit": "Please say what you count, like walks.",
    "start_date": "Please enter a date, like 2026-01-31.",
    "due_date": "Please enter a date, like 2026-03-31.",
}
_FORM_TO_GOAL = {
    "kind": "measure.kind",
    "unit": "measure.unit",
    "cadence": "measure.cadence",
    "target": "measure.target",
}
"""The form's field names, as the goal's rules name the fields."""
_FIELDS_OF_FORM = (
    "statement",
    "kind",
    "unit",
    "cadence",
    "target",
    "cue",
    "life_area",
    "values",
    "start_date",
    "due_date",
)


def options() -> dict[str, object]:
    """The choices the form's selects offer, for the template."""
    return {
        "kinds": KINDS,
        "cadences": {key: f"{words[0].upper()}{words[1:]}" for key, words in CADENCES.items()},
        "life_areas": LIFE_AREAS,
    }


def fresh_typed() -> dict[str, str]:
    """What a new form starts with: a weekly count, starting today, done in six weeks."""
    today = datetime.now(UTC).date()
    return {
        "kind": "count",
        "cadence": "per_week",
        "life_area": "physical_health",
        "start_date": today.isoformat(),
        "due_date": (today + timedelta(days=42)).isoformat(),
    }


async def typed_in(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name, "")) for name in _FIELDS_OF_FORM}


def asked(
    typed: dict[str, str], *, client_id: UUID | None = None, replaces: UUID | None = None
) -> NewGoal | dict[str, str]:
    """The goal the form asks for, or the words for the field that cannot be read (named as the
    goal's rules name it)."""
    bad = with_nul(typed)
    if bad is not None:
        return {_FORM_TO_GOAL.get(bad, bad): NUL_WORDS}
    values = [value.strip() for value in typed.get("values", "").split(",") if value.strip()]
    raw: dict[str, object] = {
        "statement": typed.get("statement", "").strip(),
        "life_area": typed.get("life_area", ""),
        "values": values,
        "measure": {
            "kind": typed.get("kind", ""),
            "target": typed.get("target", "").strip() or "1",
            "unit": typed.get("unit", "").strip() or "times",
            "cadence": typed.get("cadence", ""),
        },
        "cue": typed.get("cue", "").strip() or None,
        "start_date": typed.get("start_date", ""),
        "due_date": typed.get("due_date", ""),
        "client_id": None if client_id is None else str(client_id),
        "replaces": None if replaces is None else str(replaces),
    }
    try:
        return msgspec.convert(raw, NewGoal, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rpartition("`$.")[2].rstrip("`").split("[")[0] or "statement"
        return {field: _FIELD_WORDS.get(field, "Please choose one of the options.")}


async def overload_words(conn: Connection, clinic_id: UUID, client_id: UUID) -> str | None:
    """The gentle warning when the client already has as many active goals as the clinic
    thinks enough."""
    found = await reads.summaries_of_clients(conn, [client_id])
    active = sum(1 for summary in found.goals if summary.status == "active")
    limit = await queries.active_goal_limit(conn, clinic_id)
    warnings = overload_warning(active, limit)
    return warnings[0].message if warnings else None
